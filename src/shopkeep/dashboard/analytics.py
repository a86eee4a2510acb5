"""How the store is doing: revenue, refunds, orders, top products, new vs returning buyers,
checkout conversion, refund and chargeback rates, delivery and webhook health, by day, week
or month in the store's time zone.

Reads only (the web layer may read across domains). Rows are bucketed in Python after one
query each, by the local date of the moment that matters (paid, refund settled, dispute
opened), so a day is the store's day on SQLite and PostgreSQL alike and across DST.
Money is never added across currencies: every amount is per currency.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Min
from django.utils import timezone

from shopkeep.delivery.models import DeliveryCommand
from shopkeep.disputes.models import Dispute
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.stores.models import Store
from shopkeep.webhooks.models import WebhookDelivery

PERIODS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
GRAINS = ("day", "week", "month")
ZERO = Decimal("0")


def zone_of(store: Store) -> ZoneInfo:
    try:
        return ZoneInfo(store.time_zone)
    except Exception:  # a zone removed from tzdata since it was chosen
        return ZoneInfo("UTC")


def bucket_start(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if grain == "month":
        return day.replace(day=1)
    return day


def _next(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def bucket_label(start: date, grain: str) -> str:
    if grain == "month":
        return f"{start:%b %Y}"
    if grain == "week":
        return f"week of {start:%d %b}"
    return f"{start:%d %b}"


@dataclass
class Bucket:
    start: date
    label: str
    gross: dict[str, Decimal] = field(default_factory=dict)
    refunds: dict[str, Decimal] = field(default_factory=dict)
    orders: int = 0
    new_customers: int = 0
    returning_customers: int = 0

    def net(self, currency: str) -> Decimal:
        return self.gross.get(currency, ZERO) - self.refunds.get(currency, ZERO)


@dataclass
class TopProduct:
    product_id: int
    name: str
    quantity: int
    revenue: dict[str, Decimal]


@dataclass
class Report:
    start_day: date
    end_day: date  # included
    grain: str
    zone: str
    includes_test_orders: bool
    buckets: list[Bucket]
    currencies: list[str]
    gross: dict[str, Decimal]
    refunds: dict[str, Decimal]
    orders_paid: int
    orders_started: int
    customers_new: int
    customers_returning: int
    refunded_orders: int
    disputes: int
    top_products: list[TopProduct]
    delivery_median_seconds: float | None
    delivery_items: int
    commands_failed: int
    commands_completed: int
    webhooks_succeeded: int
    webhooks_failed: int

    def net(self, currency: str) -> Decimal:
        return self.gross.get(currency, ZERO) - self.refunds.get(currency, ZERO)

    @property
    def net_by_currency(self) -> dict[str, Decimal]:
        return {c: self.net(c) for c in self.currencies}

    @property
    def conversion(self) -> float | None:
        """Checkouts paid of checkouts started in the period."""
        return self.orders_paid / self.orders_started if self.orders_started else None

    @property
    def refund_rate(self) -> float | None:
        return self.refunded_orders / self.orders_paid if self.orders_paid else None

    @property
    def dispute_rate(self) -> float | None:
        return self.disputes / self.orders_paid if self.orders_paid else None

    @property
    def delivery_failure_rate(self) -> float | None:
        total = self.commands_failed + self.commands_completed
        return self.commands_failed / total if total else None

    @property
    def webhook_failure_rate(self) -> float | None:
        total = self.webhooks_failed + self.webhooks_succeeded
        return self.webhooks_failed / total if total else None


def _add(into: dict[str, Decimal], currency: str, amount: Decimal) -> None:
    into[currency] = into.get(currency, ZERO) + amount


def report(*, store: Store, period: str = "30d", grain: str = "day",
           now: datetime | None = None) -> Report:
    """The last ``period`` of whole local days up to today, in ``grain`` buckets."""
    days = PERIODS.get(period, 30)
    grain = grain if grain in GRAINS else "day"
    zone = zone_of(store)
    now = now or timezone.now()
    end_day = timezone.localtime(now, zone).date()
    start_day = end_day - timedelta(days=days - 1)
    since = datetime.combine(start_day, time.min, zone)
    until = datetime.combine(end_day + timedelta(days=1), time.min, zone)

    def local_day(moment: datetime) -> date:
        return timezone.localtime(moment, zone).date()

    buckets: dict[date, Bucket] = {}
    cursor = bucket_start(start_day, grain)
    while cursor <= end_day:
        buckets[cursor] = Bucket(start=cursor, label=bucket_label(cursor, grain))
        cursor = _next(cursor, grain)

    def bucket_for(moment: datetime) -> Bucket:
        return buckets[bucket_start(local_day(moment), grain)]

    # The mode the store is in, as on the overview: a store in test mode sees its test
    # orders (the owner trying it out should see the numbers move), a live one real money.
    orders = Order.objects.filter(store=store, is_test_order=store.test_mode)
    paid_qs = orders.filter(paid_at__gte=since, paid_at__lt=until)
    paid = list(paid_qs.values_list("pk", "customer_id", "currency", "total", "paid_at"))
    # A buyer is new in the bucket of their first paid order ever (before the period too).
    first_paid = dict(orders.filter(paid_at__isnull=False, customer_id__in=paid_qs.values(
        "customer_id")).values("customer_id").annotate(first=Min("paid_at"))
        .values_list("customer_id", "first"))
    gross: dict[str, Decimal] = {}
    seen: dict[date, set[int]] = defaultdict(set)
    new_total, returning_total = set(), set()
    for _pk, customer_id, currency, total, paid_at in paid:
        bucket = bucket_for(paid_at)
        _add(bucket.gross, currency, total)
        _add(gross, currency, total)
        bucket.orders += 1
        if customer_id in seen[bucket.start]:
            continue
        seen[bucket.start].add(customer_id)
        first = first_paid.get(customer_id)
        if first is not None and bucket_start(local_day(first), grain) == bucket.start:
            bucket.new_customers += 1
        else:
            bucket.returning_customers += 1
    for _pk, customer_id, _c, _t, _at in paid:
        first = first_paid.get(customer_id)
        (new_total if first is not None and first >= since else returning_total).add(
            customer_id)
    returning_total -= new_total

    refunds_total: dict[str, Decimal] = {}
    refund_rows = (Refund.objects.filter(store=store, status=Refund.Status.SUCCEEDED,
                                         settled_at__gte=since, settled_at__lt=until)
                   .filter(order__is_test_order=store.test_mode)
                   .values_list("order__currency", "amount", "settled_at", "order_id"))
    refunded_orders = set()
    for currency, amount, settled_at, order_id in refund_rows:
        _add(bucket_for(settled_at).refunds, currency, amount)
        _add(refunds_total, currency, amount)
        refunded_orders.add(order_id)

    disputes = Dispute.objects.filter(store=store, created_at__gte=since,
                                      created_at__lt=until).count()
    paid_ids = paid_qs.values("pk")  # a subquery: no id list, whatever the volume
    top = _top_products(paid_ids)
    deliveries = _delivery_seconds(paid_ids)
    commands = DeliveryCommand.objects.filter(store=store, updated_at__gte=since,
                                              updated_at__lt=until)
    hooks = WebhookDelivery.objects.filter(store=store, is_test=False, created_at__gte=since,
                                           created_at__lt=until)
    currencies = sorted(set(gross) | set(refunds_total)) or [store.currency]
    return Report(
        start_day=start_day, end_day=end_day, grain=grain, zone=str(zone.key),
        includes_test_orders=store.test_mode, buckets=list(buckets.values()),
        currencies=currencies, gross=gross, refunds=refunds_total, orders_paid=len(paid),
        orders_started=orders.filter(created_at__gte=since, created_at__lt=until).count(),
        customers_new=len(new_total), customers_returning=len(returning_total),
        refunded_orders=len(refunded_orders), disputes=disputes, top_products=top,
        delivery_median_seconds=statistics.median(deliveries) if deliveries else None,
        delivery_items=len(deliveries),
        commands_failed=commands.filter(status=DeliveryCommand.Status.FAILED).count(),
        commands_completed=commands.filter(status=DeliveryCommand.Status.COMPLETED).count(),
        webhooks_succeeded=hooks.filter(status=WebhookDelivery.Status.SUCCEEDED).count(),
        webhooks_failed=hooks.filter(status=WebhookDelivery.Status.FAILED).count())


def _top_products(order_ids, limit: int = 10) -> list[TopProduct]:
    rows: dict[int, TopProduct] = {}
    for pid, name, quantity, total, currency in OrderItem.objects.filter(
            order_id__in=order_ids).values_list("product_id", "product_name", "quantity",
                                                "total", "order__currency"):
        entry = rows.setdefault(pid, TopProduct(product_id=pid, name=name, quantity=0,
                                                revenue={}))
        entry.quantity += quantity
        _add(entry.revenue, currency, total)
    return sorted(rows.values(), key=lambda p: (-sum(p.revenue.values()), -p.quantity,
                                                p.name))[:limit]


def _delivery_seconds(order_ids) -> list[float]:
    """Seconds from payment to delivery of each delivered item of the period's orders."""
    return [(delivered - paid).total_seconds() for delivered, paid in OrderItem.objects.filter(
        order_id__in=order_ids, delivered_at__isnull=False).values_list("delivered_at",
                                                                        "order__paid_at")
            if paid is not None and delivered >= paid]
