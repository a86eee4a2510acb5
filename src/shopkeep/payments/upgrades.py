"""Tiered upgrades, the flow part: what a buyer holds, what it is worth, and what runs in game.

The ladder is the owner's (``promotions/tiers.py``). A buyer *holds* a tier when, in this
store and under their e-mail:

- one-time tiers: a paid order item of that product whose order is not refunded, partially
  refunded or disputed, and which no other order has upgraded (``OrderItem.upgraded_by``);
- subscription tiers: a live subscription (active or trialing; not past due, not cancelled)
  of that product whose order item no other order has upgraded.

The highest held rank counts. Its **credit** toward a higher tier:

- one-time: what the held tier cost (its unit price plus any credit it got itself), so a
  chain VIP -> MVP -> Legend never pays twice for the same rank;
- subscription: the unused part of the current paid period, pro rata by the second
  (``amount * (period_end - now) / (period_end - period_start)``, rounded half up to the
  currency's minor unit); a trial has nothing paid and gives no credit. The new subscription's
  first payment is the higher price less that credit; it renews at the full price.

An upgrade price exists only when the credit is less than the higher tier's price (sales
included); the upgrade goes to the player who holds the lower tier. When the upgrade order is
paid, in the payment's transaction: the lower tier's take-back commands are queued first (its
``refund`` commands for one-time tiers; ending its subscription queues its
``subscription_cancel`` commands), then the higher tier's purchase commands, so the agent,
which runs one player's commands in queue order, removes the old rank before granting the new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django_tasks import task

from shopkeep.catalog.models import Product
from shopkeep.core.money import quantize
from shopkeep.customers.models import Customer
from shopkeep.delivery import queue as delivery_queue
from shopkeep.orders.models import Order, OrderItem
from shopkeep.orders.upgrade_lines import Upgrade
from shopkeep.payments.gateways import get_gateway
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.promotions.models import Tier
from shopkeep.promotions.pricing import price_products
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from shopkeep.subscriptions import services as subscriptions
from shopkeep.subscriptions.models import Subscription

HELD_ORDER_STATUSES = (Order.Status.PROCESSING, Order.Status.COMPLETED)
ZERO = Decimal("0")


@dataclass(frozen=True)
class Held:
    tier: Tier
    item: OrderItem
    credit: Decimal
    subscription: Subscription | None = None


def prorated_credit(*, sub: Subscription, at: datetime) -> Decimal:
    if sub.status == Subscription.Status.TRIALING:
        return ZERO
    length = (sub.current_period_end - sub.current_period_start).total_seconds()
    left = (sub.current_period_end - at).total_seconds()
    if length <= 0 or left <= 0:
        return ZERO
    share = Decimal(str(min(left, length))) / Decimal(str(length))
    return quantize((sub.amount * share).quantize(Decimal("0.0001"), ROUND_HALF_UP),
                    sub.currency)


def held_tiers(*, store: Store, customer: Customer, at: datetime | None = None
               ) -> dict[int, Held]:
    """Per tier group id, the highest tier ``customer`` holds (see the module's rules)."""
    at = at or timezone.now()
    tiers = {t.product_id: t for t in Tier.objects.filter(store=store).select_related(
        "group", "product")}
    if not tiers:
        return {}
    held: dict[int, Held] = {}

    def keep(candidate: Held) -> None:
        best = held.get(candidate.tier.group_id)
        if best is None or candidate.tier.rank > best.tier.rank:
            held[candidate.tier.group_id] = candidate

    one_time = (OrderItem.objects.filter(
        store=store, order__customer=customer, order__paid_at__isnull=False,
        order__status__in=HELD_ORDER_STATUSES, product_id__in=list(tiers), upgraded_by="",
        product_type=Product.Type.DIGITAL).select_related("order"))
    for item in one_time:
        keep(Held(tier=tiers[item.product_id], item=item,
                  credit=item.unit_price + item.upgrade_credit))
    live = (Subscription.objects.filter(
        store=store, customer=customer, product_id__in=list(tiers),
        status__in=[Subscription.Status.ACTIVE, Subscription.Status.TRIALING])
        .select_related("order"))
    for sub in live:
        item = (OrderItem.objects.filter(order_id=sub.order_id, product_id=sub.product_id,
                                         upgraded_by="").select_related("order").first())
        if item is not None:
            keep(Held(tier=tiers[sub.product_id], item=item, subscription=sub,
                      credit=prorated_credit(sub=sub, at=at)))
    return held


def upgrades_for(*, store: Store, customer: Customer | None, product_ids,
                 at: datetime | None = None) -> dict[int, Upgrade]:
    """The upgrade each of ``product_ids`` is for ``customer`` now (none for a product that
    is not a higher tier of something they hold)."""
    if customer is None:
        return {}
    at = at or timezone.now()
    wanted = {t.product_id: t for t in Tier.objects.filter(store=store,
                                                           product_id__in=list(product_ids))}
    if not wanted:
        return {}
    held = held_tiers(store=store, customer=customer, at=at)
    found = {}
    for product_id, tier in wanted.items():
        mine = held.get(tier.group_id)
        if mine is None or mine.tier.rank >= tier.rank:
            continue
        holder = (mine.subscription or mine.item.order).identity
        found[product_id] = Upgrade(product_id=product_id, from_item_id=mine.item.pk,
                                    from_name=mine.tier.product.name, credit=mine.credit,
                                    holder=holder)
    return found


def customer_by_email(*, store: Store, email: str) -> Customer | None:
    email = (email or "").strip().lower()
    return Customer.objects.filter(store=store, email=email).first() if email else None


@dataclass(frozen=True)
class UpgradeOffer:
    price: Decimal  # what the upgrade costs now (sale price less the credit)
    from_name: str
    credit: Decimal


def upgrade_offers(*, store: Store, customer: Customer | None, products: list[Product]
                   ) -> dict[int, UpgradeOffer]:
    """"Upgrade for X" on the storefront, for a signed-in customer."""
    found = upgrades_for(store=store, customer=customer, product_ids=[p.pk for p in products])
    if not found:
        return {}
    prices = price_products(store=store, products=[p for p in products if p.pk in found])
    offers = {}
    for pid, upgrade in found.items():
        price = prices[pid][0]
        if upgrade.credit < price:
            offers[pid] = UpgradeOffer(price=price - upgrade.credit, from_name=upgrade.from_name,
                                       credit=upgrade.credit)
    return offers


def on_upgrade_paid(*, order: Order) -> list[Subscription]:
    """Inside the payment's transaction, before the order's purchase commands are queued:
    take back each lower tier this order upgraded from. Returns the lower subscriptions it
    cancelled, whose access the caller ends at once (``flows.subscription_end_if_due``, which
    queues their subscription_cancel commands)."""
    ended = []
    for item in order.items.filter(upgrade_from__isnull=False).select_related("upgrade_from"):
        lower = item.upgrade_from
        cause = f"upgrade-{order.order_number}"
        sub = (Subscription.objects.select_for_update()
               .filter(order_id=lower.order_id, product_id=lower.product_id).first())
        if sub is not None:
            if sub.status != Subscription.Status.CANCELED:
                subscriptions.subscription_record_cancelled(
                    sub=Subscription.objects.select_related("store", "customer", "product")
                    .select_for_update().get(pk=sub.pk), at_period_end=False,
                    reason=f"Upgraded to {item.product_name} (order {order.order_number})",
                    actor=Actor.system("upgrade"))
                # Billing stops at the gateway after commit; the hourly reconciliation
                # repeats it if the gateway was unreachable.
                cancel_at_gateway_task.enqueue(sub.pk)
            ended.append(sub)
            continue
        lower_order = Order.objects.select_for_update().select_related("store").get(
            pk=lower.order_id)
        delivery_queue.on_tier_replaced(order=lower_order, item=lower, cause=cause,
                                        actor="upgrade")
    return ended


@task()
def cancel_at_gateway_task(subscription_id: int) -> str:
    sub = Subscription.objects.select_related("store").filter(pk=subscription_id).first()
    if sub is None:
        return "gone"
    try:
        get_gateway(sub.payment_gateway, store=sub.store).cancel_subscription(
            subscription_id=sub.gateway_subscription_id, at_period_end=False)
    except GatewayError as exc:
        return f"left to the reconciliation: {exc.code}"
    return "cancelled at the gateway"


def upgrades_for_checkout(*, store: Store, email: str, product_ids) -> dict[int, Upgrade]:
    return upgrades_for(store=store, customer=customer_by_email(store=store, email=email),
                        product_ids=product_ids)

