"""Store API: tier groups (the upgrade ladders) and what an upgrade costs a customer."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from shopkeep.catalog.models import Product
from shopkeep.core.money import money_str
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers.models import Customer
from shopkeep.payments.upgrades import upgrade_offers
from shopkeep.promotions import tiers
from shopkeep.promotions.models import TierGroup
from shopkeep.promotions.pricing import price_products
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["promotions"])


class TierGroupIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=300)
    product_ids: list[int] = Field(..., min_length=2, max_length=tiers.MAX_TIERS,
                                   description="The ladder, lowest tier first")


class TierOut(Schema):
    rank: int
    product_id: int
    product_name: str
    price: str


class TierGroupOut(Schema):
    id: int
    name: str
    description: str
    tiers: list[TierOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tiers(obj: TierGroup) -> list[dict]:
        return [{"rank": t.rank, "product_id": t.product_id, "product_name": t.product.name,
                 "price": money_str(t.product.price, t.product.currency)}
                for t in obj.tiers.all()]


class UpgradePriceOut(Schema):
    product_id: int
    upgrade: bool = Field(..., description="Whether the customer holds a lower tier")
    from_product_name: str | None
    credit: str | None
    price: str = Field(..., description="What the customer pays now (with running sales)")


def _groups(request: HttpRequest):
    return (TierGroup.objects.filter(store=request.store)
            .prefetch_related("tiers__product").order_by("name", "id"))


def _input(payload: TierGroupIn) -> tiers.TierGroupInput:
    return tiers.TierGroupInput(name=payload.name, description=payload.description,
                                product_ids=payload.product_ids)


@router.get("/tier-groups", response=list[TierGroupOut], auth=scope("promotions:read"))
@paginate(PagePagination)
def tier_group_list(request: HttpRequest):
    return _groups(request)


@router.post("/tier-groups", response={201: TierGroupOut}, auth=scope("promotions:write"),
             summary="Create a ladder of products, lowest first")
def tier_group_create(request: HttpRequest, payload: TierGroupIn):
    group = tiers.tier_group_create(store=request.store,
                                    actor=Actor.for_token(request.api_token),
                                    data=_input(payload))
    return Status(201, get_for_store(_groups(request), request.store, pk=group.pk))


@router.get("/tier-groups/upgrade-price", response=UpgradePriceOut,
            auth=scope("promotions:read"),
            summary="What a customer pays for a product, with the credit of a lower tier")
def tier_upgrade_price(request: HttpRequest, customer_id: int, product_id: int):
    customer = get_for_store(Customer, request.store, pk=customer_id)
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    offer = upgrade_offers(store=request.store, customer=customer,
                           products=[product]).get(product.pk)
    if offer is None:
        price = price_products(store=request.store, products=[product])[product.pk][0]
        return {"product_id": product.pk, "upgrade": False, "from_product_name": None,
                "credit": None, "price": money_str(price, product.currency)}
    return {"product_id": product.pk, "upgrade": True, "from_product_name": offer.from_name,
            "credit": money_str(offer.credit, product.currency),
            "price": money_str(offer.price, product.currency)}


@router.get("/tier-groups/{group_id}", response=TierGroupOut, auth=scope("promotions:read"))
def tier_group_detail(request: HttpRequest, group_id: int):
    return get_for_store(_groups(request), request.store, pk=group_id)


@router.put("/tier-groups/{group_id}", response=TierGroupOut, auth=scope("promotions:write"))
def tier_group_update(request: HttpRequest, group_id: int, payload: TierGroupIn):
    group = get_for_store(TierGroup, request.store, pk=group_id)
    tiers.tier_group_update(store=request.store, actor=Actor.for_token(request.api_token),
                            group=group, data=_input(payload))
    return get_for_store(_groups(request), request.store, pk=group_id)


@router.delete("/tier-groups/{group_id}", response={204: None},
               auth=scope("promotions:write"))
def tier_group_delete(request: HttpRequest, group_id: int):
    group = get_for_store(TierGroup, request.store, pk=group_id)
    tiers.tier_group_delete(store=request.store, actor=Actor.for_token(request.api_token),
                            group=group)
    return Status(204, None)
