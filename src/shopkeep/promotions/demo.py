"""The demo store's promotions: a running sale, a coupon, a gift card to try at checkout, a
gift card to buy, and a VIP -> MVP tier ladder whose upgrade price shows to a VIP holder."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from shopkeep.catalog.models import Category, Product
from shopkeep.catalog.services import (
    ActionInput,
    ProductInput,
    delivery_actions_set,
    product_create,
)
from shopkeep.promotions.giftcards import gift_card_issue
from shopkeep.promotions.models import Coupon, GiftCard, Sale, Tier
from shopkeep.promotions.services import CouponInput, SaleInput, coupon_create, sale_create
from shopkeep.promotions.tiers import TierGroupInput, tier_group_create
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
    _seed_gift_card_product(store, actor)
    _seed_tiers(store, actor)
    return {"coupon_code": DEMO_COUPON, "gift_card_code": card.display_code,
            "gift_card_balance": f"{card.balance} {card.currency}"}


def _seed_gift_card_product(store: Store, actor: Actor) -> None:
    if Product.objects.filter(store=store, type=Product.Type.GIFT_CARD).exists():
        return
    product_create(store=store, actor=actor, data=ProductInput(
        name="Gift Card 25", price="25.00", type=Product.Type.GIFT_CARD,
        description="A code worth 25.00 in this store, e-mailed at once: a present for a "
                    "friend."))


def _seed_tiers(store: Store, actor: Actor) -> None:
    """VIP Rank (from the demo catalog) < MVP Rank; skipped when the owner removed VIP."""
    vip = Product.objects.filter(store=store, slug="vip-rank").first()
    if vip is None or Tier.objects.filter(store=store, product=vip).exists():
        return
    ranks = Category.objects.filter(store=store, slug="ranks").first()
    mvp = product_create(store=store, actor=actor, data=ProductInput(
        name="MVP Rank", price="49.99", category_id=ranks.pk if ranks else None,
        description="Everything VIP has, plus an MVP tag and a weekly crate. VIP holders "
                    "pay only the difference."))
    delivery_actions_set(store=store, actor=actor, product=mvp, trigger="purchase",
                         actions=[ActionInput(commands=["lp user {player} parent add mvp"])])
    for trigger in ("refund", "chargeback"):
        delivery_actions_set(store=store, actor=actor, product=mvp, trigger=trigger,
                             actions=[ActionInput(commands=["lp user {player} parent remove mvp"])])
    tier_group_create(store=store, actor=actor, data=TierGroupInput(
        name="Ranks", product_ids=[vip.pk, mvp.pk], description="VIP < MVP"))
