"""Builders for promotion tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from shopkeep.promotions.giftcards import gift_card_issue
from shopkeep.promotions.services import CouponInput, SaleInput, coupon_create, sale_create
from shopkeep.stores.audit import Actor
from tests.factories import owner_of


def owner(store) -> Actor:
    return Actor.for_user(owner_of(store))


def make_coupon(store, code="SAVE10", kind="percent", value="10", **fields):
    return coupon_create(store=store, actor=owner(store),
                         data=CouponInput(code=code, kind=kind, value=value, **fields))


def make_sale(store, *, kind="percent", value="20", hours=24, started_hours_ago=1, **fields):
    now = timezone.now()
    fields.setdefault("all_products", not fields.get("product_ids")
                      and not fields.get("category_ids"))
    return sale_create(store=store, actor=owner(store), data=SaleInput(
        name="Summer sale", kind=kind, value=value,
        starts_at=now - timedelta(hours=started_hours_ago), ends_at=now + timedelta(hours=hours),
        **fields))


def make_gift_card(store, amount="50.00"):
    return gift_card_issue(store=store, actor=owner(store), amount=amount, note="test")
