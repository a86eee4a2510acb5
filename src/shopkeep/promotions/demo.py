"""The demo store's promotions: a running sale, a coupon and a gift card to try at checkout."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from shopkeep.catalog.models import Category
from shopkeep.promotions.giftcards import gift_card_issue
from shopkeep.promotions.models import Coupon, GiftCard, Sale
from shopkeep.promotions.services import CouponInput, SaleInput, coupon_create, sale_create
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store

DEMO_COUPON = "WELCOME10"
DEMO_GIFT_CARD_NOTE = "demo gift card"


def seed_demo_promotions(*, store: Store, actor: Actor) -> dict[str, str]:
    """Idempotent: a second run keeps what exists, and starts a new sale if the last ended."""
    now = timezone.now()
    if not Sale.objects.filter(store=store, ends_at__gt=now).exists():
        items = Category.objects.filter(store=store, slug="items").first()
        sale_create(store=store, actor=actor, data=SaleInput(
            name="Launch sale", kind="percent", value="20", starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=30), all_products=items is None,
            category_ids=[items.pk] if items else []))
    if not Coupon.objects.filter(store=store, code=DEMO_COUPON).exists():
        coupon_create(store=store, actor=actor, data=CouponInput(
            code=DEMO_COUPON, kind="percent", value="10", max_uses=1000,
            max_uses_per_customer=1, description="10% off a first order"))
    card = GiftCard.objects.filter(store=store, note=DEMO_GIFT_CARD_NOTE,
                                   is_active=True, balance__gt=0).first()
    if card is None:
        card = gift_card_issue(store=store, actor=actor, amount="25.00",
                               note=DEMO_GIFT_CARD_NOTE)
    return {"coupon_code": DEMO_COUPON, "gift_card_code": card.display_code,
            "gift_card_balance": f"{card.balance} {card.currency}"}
