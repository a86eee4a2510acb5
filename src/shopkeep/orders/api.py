"""Store API: orders (list, detail, headless checkout) and refunds."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlsplit

from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from pydantic import AfterValidator, StrictBool

from shopkeep.core.absolute import absolute_url
from shopkeep.core.money import from_minor, money_str
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers.services import CustomerInput
from shopkeep.orders import idempotency, selectors
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create, refund_request
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["orders"])


class ItemOut(Schema):
    id: int
    product_id: int
    product_name: str
    quantity: int
    unit_price: str
    total: str
    delivery_status: str
    upgrade_credit: str = Field("0.00", description="A tier upgrade's credit, already taken "
                                "off unit_price")
    upgrade_from_item_id: int | None = Field(None, description="The order item of the lower "
                                             "tier this one upgraded")

    @staticmethod
    def resolve_upgrade_credit(obj: OrderItem) -> str:
        return money_str(obj.upgrade_credit, obj.order.currency)

    @staticmethod
    def resolve_upgrade_from_item_id(obj: OrderItem) -> int | None:
        return obj.upgrade_from_id

    @staticmethod
    def resolve_unit_price(obj: OrderItem) -> str:
        return money_str(obj.unit_price, obj.order.currency)

    @staticmethod
    def resolve_total(obj: OrderItem) -> str:
        return money_str(obj.total, obj.order.currency)


class RefundOut(Schema):
    id: int
    order_id: int
    amount: str
    reason: str
    status: str
    error: str
    created_at: datetime
    settled_at: datetime | None

    @staticmethod
    def resolve_amount(obj: Refund) -> str:
        return money_str(obj.amount, obj.order.currency)


class OrderOut(Schema):
    id: int
    order_number: str
    customer_id: int
    customer_email: str
    customer_name: str
    player_name: str
    billing_address: dict | None
    currency: str
    subtotal: str
    discount: str
    coupon_code: str
    tax: str
    tax_rate: str
    tax_country: str
    tax_inclusive: bool
    vat_number: str
    reverse_charge: bool
    total: str
    gift_card_amount: str
    amount_due: str = Field(..., description="What the gateway charges: total less gift card")
    creator_code: str
    show_in_widgets: bool
    refunded_amount: str
    status: str
    payment_status: str
    payment_gateway: str
    gateway_payment_id: str
    is_test_order: bool
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime
    items: list[ItemOut]

    @staticmethod
    def resolve_items(obj: Order) -> list[OrderItem]:
        return list(obj.items.all())

    @staticmethod
    def resolve_subtotal(obj: Order) -> str:
        return money_str(obj.subtotal, obj.currency)

    @staticmethod
    def resolve_tax(obj: Order) -> str:
        return money_str(obj.tax, obj.currency)

    @staticmethod
    def resolve_discount(obj: Order) -> str:
        return money_str(obj.discount, obj.currency)

    @staticmethod
    def resolve_tax_rate(obj: Order) -> str:
        return format(obj.tax_rate.normalize(), "f")

    @staticmethod
    def resolve_gift_card_amount(obj: Order) -> str:
        return money_str(obj.gift_card_amount, obj.currency)

    @staticmethod
    def resolve_amount_due(obj: Order) -> str:
        return money_str(obj.amount_due, obj.currency)

    @staticmethod
    def resolve_total(obj: Order) -> str:
        return money_str(obj.total, obj.currency)

    @staticmethod
    def resolve_refunded_amount(obj: Order) -> str:
        return money_str(obj.refunded_amount, obj.currency)


class DisputeSummaryOut(Schema):
    """A chargeback on the order; ``GET /disputes/{id}`` has the rest."""

    id: int
    dispute_id: str
    status: str
    reason: str
    amount: int  # minor units, as seed 002's dispute events
    amount_decimal: str
    evidence_due_by: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_dispute_id(obj) -> str:
        return obj.gateway_dispute_id

    @staticmethod
    def resolve_amount(obj) -> int:
        return obj.amount_minor

    @staticmethod
    def resolve_amount_decimal(obj) -> str:
        return money_str(from_minor(obj.amount_minor, obj.currency), obj.currency)


class OrderDetailOut(OrderOut):
    refunds: list[RefundOut]
    disputes: list[DisputeSummaryOut]

    @staticmethod
    def resolve_refunds(obj: Order) -> list[Refund]:
        return list(obj.refunds.all())

    @staticmethod
    def resolve_disputes(obj: Order) -> list:
        # Through the reverse relation: orders sits below disputes and does not import it.
        return list(obj.disputes.all())


class OrderCreatedOut(OrderOut):
    checkout_url: str


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a malformed port
    except ValueError:
        raise ValueError("must be an absolute http(s) URL") from None
    if (parts.scheme not in ("http", "https") or not parts.hostname
            or any(ch.isspace() or not ch.isprintable() for ch in value)):
        raise ValueError("must be an absolute http(s) URL")
    return value


HttpUrl = Annotated[str, Field(..., min_length=1, max_length=500), AfterValidator(_http_url)]


class LineIn(Schema):
    product_id: int
    quantity: int = Field(1, ge=1, le=99)


class CustomerIn(Schema):
    email: str = Field(..., max_length=254)
    player_name: str = Field(..., max_length=32)
    name: str = Field("", max_length=150)
    country: str = Field("", max_length=2)
    minecraft_uuid: str = Field("", max_length=36)
    steam_id: str = Field("", max_length=17)
    steam_username: str = Field("", max_length=64)
    discord_id: str = Field("", max_length=20)
    discord_username: str = Field("", max_length=64)


class AddressIn(Schema):
    line1: str = Field("", max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field("", max_length=200)
    state: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=200)
    country: str = Field("", max_length=2)


class OrderCreateIn(Schema):
    items: list[LineIn] = Field(..., min_length=1, max_length=20)
    customer: CustomerIn
    billing_address: AddressIn | None = None
    phone: str = Field("", max_length=32)
    coupon_code: str = Field("", max_length=40)
    gift_card_code: str = Field("", max_length=40)
    vat_number: str = Field("", max_length=40)
    creator_code: str = Field("", max_length=40)
    show_in_widgets: StrictBool = Field(
        False, description="The buyer agreed to appear (player name and product only) in the "
        "store's recent purchases and top supporter widgets. Ask them; never default it on.")
    buyer_ip: str = Field("", max_length=45, description="The buyer's IP address, checked "
                          "against the store's IP bans (a headless store knows it; we do not)")
    gateway: str = Field("", max_length=32, description="stripe, paypal or sandbox: one of "
                         "the store's checkout_gateways (GET /payments/paypal lists them); "
                         "empty for the store's default")
    success_url: HttpUrl
    cancel_url: HttpUrl


class RefundIn(Schema):
    amount: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    reason: str = Field("", max_length=500)


def _aware(value: datetime | None) -> datetime | None:
    """A filter timestamp without an offset is read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@router.get("/orders", response=list[OrderOut], auth=scope("orders:read"))
@paginate(PagePagination)
def order_list(request: HttpRequest, status: str = "", payment_status: str = "",
               email: str = "", order_number: str = "", customer_id: int | None = None,
               is_test_order: bool | None = None, created_after: datetime | None = None,
               created_before: datetime | None = None):
    return selectors.orders(
        store=request.store, status=status[:32], payment_status=payment_status[:32],
        test=is_test_order, customer_id=customer_id, email=email[:254],
        order_number=order_number[:32], created_after=_aware(created_after),
        created_before=_aware(created_before)).prefetch_related("items")


@router.get("/orders/{order_id}", response=OrderDetailOut, auth=scope("orders:read"))
def order_detail(request: HttpRequest, order_id: int):
    return get_for_store(Order.objects.prefetch_related("items", "refunds", "disputes"),
                         request.store, pk=order_id)


@router.post("/orders", response={201: OrderCreatedOut}, auth=scope("orders:write"),
             summary="Headless checkout: create a pending order and get its payment URL")
def order_create_api(request: HttpRequest, payload: OrderCreateIn) -> JsonResponse:
    store = request.store

    def work() -> tuple[int, dict]:
        order = order_create(
            store=store, lines=[Line(item.product_id, item.quantity) for item in payload.items],
            customer=CustomerInput(**payload.customer.dict()),
            billing_address=payload.billing_address.dict() if payload.billing_address
            else None, phone=payload.phone, coupon_code=payload.coupon_code,
            gift_card_code=payload.gift_card_code, vat_number=payload.vat_number,
            creator_code=payload.creator_code, buyer_ip=payload.buyer_ip,
            show_in_widgets=payload.show_in_widgets, gateway=payload.gateway)
        url = checkout_start(order=order, success_url=payload.success_url,
                             cancel_url=payload.cancel_url)
        order.refresh_from_db()
        body = OrderOut.from_orm(order).model_dump(mode="json")
        body["checkout_url"] = url if "://" in url else absolute_url(url, request=request)
        return 201, body

    # checkout_start calls the gateway and must run outside a transaction.
    return idempotency.run(request, store, work, atomic=False)


@router.get("/orders/{order_id}/refunds", response=list[RefundOut], auth=scope("orders:read"))
@paginate(PagePagination)
def refund_list(request: HttpRequest, order_id: int):
    order = get_for_store(Order, request.store, pk=order_id)
    return order.refunds.select_related("order")


@router.post("/orders/{order_id}/refunds", response={202: RefundOut},
             auth=scope("orders:write"),
             summary="Refund all or part of an order; the worker executes it at the gateway")
def refund_create(request: HttpRequest, order_id: int, payload: RefundIn) -> JsonResponse:
    store = request.store
    order = get_for_store(Order, store, pk=order_id)

    def work() -> tuple[int, dict]:
        refund = refund_request(store=store, actor=Actor.for_token(request.api_token),
                                order=order, amount=payload.amount, reason=payload.reason)
        return 202, RefundOut.from_orm(refund).model_dump(mode="json")

    return idempotency.run(request, store, work)
