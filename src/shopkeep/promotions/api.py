"""Store API: coupons, sales and gift cards (issue, list, balance, ledger, adjust)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from shopkeep.core.money import money_str
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.promotions import creators, giftcards, services
from shopkeep.promotions.models import Coupon, CreatorCode, GiftCard, GiftCardTransaction, Sale
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["promotions"])
Money = Field(..., max_length=20, pattern=r"^\d{1,9}(\.\d{1,2})?$")


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_token(request.api_token)


class CouponIn(Schema):
    code: str = Field(..., min_length=3, max_length=40)
    kind: str = Field(..., description="percent or fixed")
    value: str = Money
    description: str = Field("", max_length=200)
    scope: str = Field("basket", description="basket, products or categories")
    product_ids: list[int] = Field(default_factory=list, max_length=500)
    category_ids: list[int] = Field(default_factory=list, max_length=200)
    min_basket: str = Field("0", max_length=20, pattern=r"^\d{1,9}(\.\d{1,2})?$")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = Field(None, ge=1, le=10_000_000)
    max_uses_per_customer: int | None = Field(None, ge=1, le=10_000_000)
    first_purchase_only: bool = False
    combines_with_sales: bool = True
    is_active: bool = True


class CouponOut(Schema):
    id: int
    code: str
    kind: str
    value: str
    description: str
    scope: str
    product_ids: list[int]
    category_ids: list[int]
    min_basket: str
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: int | None
    uses_count: int
    max_uses_per_customer: int | None
    first_purchase_only: bool
    combines_with_sales: bool
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_value(obj: Coupon) -> str:
        return format(obj.value, "f")

    @staticmethod
    def resolve_min_basket(obj: Coupon) -> str:
        return money_str(obj.min_basket, obj.store.currency)

    @staticmethod
    def resolve_product_ids(obj) -> list[int]:
        return [p.pk for p in obj.products.all()]

    @staticmethod
    def resolve_category_ids(obj) -> list[int]:
        return [c.pk for c in obj.categories.all()]


class SaleIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    kind: str = Field(..., description="percent or fixed")
    value: str = Money
    starts_at: datetime
    ends_at: datetime
    all_products: bool = False
    product_ids: list[int] = Field(default_factory=list, max_length=500)
    category_ids: list[int] = Field(default_factory=list, max_length=200)
    is_active: bool = True


class SaleOut(Schema):
    id: int
    name: str
    kind: str
    value: str
    starts_at: datetime
    ends_at: datetime
    all_products: bool
    product_ids: list[int]
    category_ids: list[int]
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_value(obj: Sale) -> str:
        return format(obj.value, "f")

    @staticmethod
    def resolve_product_ids(obj) -> list[int]:
        return [p.pk for p in obj.products.all()]

    @staticmethod
    def resolve_category_ids(obj) -> list[int]:
        return [c.pk for c in obj.categories.all()]


class GiftCardIssueIn(Schema):
    amount: str = Money
    note: str = Field("", max_length=200)
    recipient_email: str = Field("", max_length=254)


class GiftCardOut(Schema):
    id: int
    code_last4: str
    currency: str
    initial_balance: str
    balance: str
    note: str
    issued_by: str
    source_order_number: str
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_code_last4(obj: GiftCard) -> str:
        return obj.code[-4:]

    @staticmethod
    def resolve_initial_balance(obj: GiftCard) -> str:
        return money_str(obj.initial_balance, obj.currency)

    @staticmethod
    def resolve_balance(obj: GiftCard) -> str:
        return money_str(obj.balance, obj.currency)


class GiftCardIssuedOut(GiftCardOut):
    code: str = Field(..., description="The full code; shown only in this response")


class BalanceIn(Schema):
    code: str = Field(..., min_length=1, max_length=40)


class AdjustIn(Schema):
    amount: str = Money
    direction: str = Field(..., description="add or remove")
    note: str = Field("", max_length=200)


class LedgerOut(Schema):
    id: int
    kind: str
    amount: str
    balance_after: str
    order_number: str
    note: str
    actor: str
    created_at: datetime

    @staticmethod
    def resolve_amount(obj: GiftCardTransaction) -> str:
        return format(obj.amount, "f")

    @staticmethod
    def resolve_balance_after(obj: GiftCardTransaction) -> str:
        return format(obj.balance_after, "f")


def _coupon_input(payload: CouponIn) -> services.CouponInput:
    return services.CouponInput(**payload.dict())


def _coupons(request: HttpRequest):
    return (Coupon.objects.filter(store=request.store).select_related("store")
            .prefetch_related("products", "categories"))


@router.get("/coupons", response=list[CouponOut], auth=scope("promotions:read"))
@paginate(PagePagination)
def coupon_list(request: HttpRequest, active: bool | None = None):
    coupons = _coupons(request)
    return coupons if active is None else coupons.filter(is_active=active)


@router.post("/coupons", response={201: CouponOut}, auth=scope("promotions:write"))
def coupon_create(request: HttpRequest, payload: CouponIn):
    coupon = services.coupon_create(store=request.store, actor=_actor(request),
                                    data=_coupon_input(payload))
    return Status(201, get_for_store(_coupons(request), request.store, pk=coupon.pk))


@router.get("/coupons/{coupon_id}", response=CouponOut, auth=scope("promotions:read"))
def coupon_detail(request: HttpRequest, coupon_id: int):
    return get_for_store(_coupons(request), request.store, pk=coupon_id)


@router.put("/coupons/{coupon_id}", response=CouponOut, auth=scope("promotions:write"))
def coupon_update(request: HttpRequest, coupon_id: int, payload: CouponIn):
    coupon = get_for_store(Coupon, request.store, pk=coupon_id)
    services.coupon_update(store=request.store, actor=_actor(request), coupon=coupon,
                           data=_coupon_input(payload))
    return get_for_store(_coupons(request), request.store, pk=coupon_id)


@router.delete("/coupons/{coupon_id}", response={204: None}, auth=scope("promotions:write"))
def coupon_delete(request: HttpRequest, coupon_id: int):
    coupon = get_for_store(Coupon, request.store, pk=coupon_id)
    services.coupon_delete(store=request.store, actor=_actor(request), coupon=coupon)
    return Status(204, None)


def _sales(request: HttpRequest):
    return Sale.objects.filter(store=request.store).prefetch_related("products", "categories")


@router.get("/sales", response=list[SaleOut], auth=scope("promotions:read"))
@paginate(PagePagination)
def sale_list(request: HttpRequest):
    return _sales(request)


@router.post("/sales", response={201: SaleOut}, auth=scope("promotions:write"))
def sale_create(request: HttpRequest, payload: SaleIn):
    sale = services.sale_create(store=request.store, actor=_actor(request),
                                data=services.SaleInput(**payload.dict()))
    return Status(201, get_for_store(_sales(request), request.store, pk=sale.pk))


@router.get("/sales/{sale_id}", response=SaleOut, auth=scope("promotions:read"))
def sale_detail(request: HttpRequest, sale_id: int):
    return get_for_store(_sales(request), request.store, pk=sale_id)


@router.put("/sales/{sale_id}", response=SaleOut, auth=scope("promotions:write"))
def sale_update(request: HttpRequest, sale_id: int, payload: SaleIn):
    sale = get_for_store(Sale, request.store, pk=sale_id)
    services.sale_update(store=request.store, actor=_actor(request), sale=sale,
                         data=services.SaleInput(**payload.dict()))
    return get_for_store(_sales(request), request.store, pk=sale_id)


@router.delete("/sales/{sale_id}", response={204: None}, auth=scope("promotions:write"))
def sale_delete(request: HttpRequest, sale_id: int):
    sale = get_for_store(Sale, request.store, pk=sale_id)
    services.sale_delete(store=request.store, actor=_actor(request), sale=sale)
    return Status(204, None)


@router.get("/gift-cards", response=list[GiftCardOut], auth=scope("promotions:read"))
@paginate(PagePagination)
def gift_card_list(request: HttpRequest):
    return GiftCard.objects.filter(store=request.store)


@router.post("/gift-cards", response={201: GiftCardIssuedOut}, auth=scope("promotions:write"),
             summary="Issue a gift card; the response is the only one that shows its code")
def gift_card_issue(request: HttpRequest, payload: GiftCardIssueIn):
    return Status(201, giftcards.gift_card_issue(
        store=request.store, actor=_actor(request), amount=payload.amount, note=payload.note,
        recipient_email=payload.recipient_email))


@router.post("/gift-cards/balance", response=GiftCardOut, auth=scope("promotions:read"),
             summary="Look a card up by its code (in the body, so it stays out of logs)")
def gift_card_balance(request: HttpRequest, payload: BalanceIn):
    # The owner's view: disabled and expired cards are found too; unknown is a plain 404.
    return get_for_store(GiftCard, request.store,
                         code=giftcards.normalise_code(payload.code) or "-")


@router.get("/gift-cards/{card_id}", response=GiftCardOut, auth=scope("promotions:read"))
def gift_card_detail(request: HttpRequest, card_id: int):
    return get_for_store(GiftCard, request.store, pk=card_id)


@router.get("/gift-cards/{card_id}/ledger", response=list[LedgerOut],
            auth=scope("promotions:read"))
@paginate(PagePagination)
def gift_card_ledger(request: HttpRequest, card_id: int):
    card = get_for_store(GiftCard, request.store, pk=card_id)
    return card.ledger.all()


@router.post("/gift-cards/{card_id}/adjust", response=LedgerOut,
             auth=scope("promotions:write"))
def gift_card_adjust(request: HttpRequest, card_id: int, payload: AdjustIn):
    card = get_for_store(GiftCard, request.store, pk=card_id)
    return giftcards.gift_card_adjust(store=request.store, actor=_actor(request), card=card,
                                      amount=payload.amount, direction=payload.direction,
                                      note=payload.note)


@router.post("/gift-cards/{card_id}/disable", response=GiftCardOut,
             auth=scope("promotions:write"))
def gift_card_disable(request: HttpRequest, card_id: int):
    card = get_for_store(GiftCard, request.store, pk=card_id)
    return giftcards.gift_card_disable(store=request.store, actor=_actor(request), card=card)



class CreatorCodeIn(Schema):
    code: str = Field(..., min_length=2, max_length=40)
    name: str = Field(..., min_length=1, max_length=100)
    share_percent: str = Field("0", max_length=6, pattern=r"^\d{1,3}(\.\d{1,2})?$")
    is_active: bool = True


class CreatorCodeOut(Schema):
    id: int
    code: str
    name: str
    share_percent: str
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_share_percent(obj) -> str:
        return format(obj.share_percent, "f")


@router.get("/creator-codes", response=list[CreatorCodeOut], auth=scope("promotions:read"))
@paginate(PagePagination)
def creator_code_list(request: HttpRequest):
    return CreatorCode.objects.filter(store=request.store)


@router.post("/creator-codes", response={201: CreatorCodeOut}, auth=scope("promotions:write"))
def creator_code_create(request: HttpRequest, payload: CreatorCodeIn):
    return Status(201, creators.creator_code_save(store=request.store, actor=_actor(request),
                                                  **payload.dict()))


@router.put("/creator-codes/{creator_id}", response=CreatorCodeOut,
            auth=scope("promotions:write"))
def creator_code_update(request: HttpRequest, creator_id: int, payload: CreatorCodeIn):
    creator = get_for_store(CreatorCode, request.store, pk=creator_id)
    return creators.creator_code_save(store=request.store, actor=_actor(request),
                                      creator=creator, **payload.dict())


@router.delete("/creator-codes/{creator_id}", response={204: None},
               auth=scope("promotions:write"))
def creator_code_delete(request: HttpRequest, creator_id: int):
    creator = get_for_store(CreatorCode, request.store, pk=creator_id)
    creators.creator_code_delete(store=request.store, actor=_actor(request), creator=creator)
    return Status(204, None)
