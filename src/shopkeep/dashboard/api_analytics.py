"""Store API: the Analytics figures as JSON (money as decimal strings, per currency; days are
the store's local days)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema

from shopkeep.core.money import money_str
from shopkeep.dashboard.analytics import report
from shopkeep.stores.api_auth import scope

router = Router(tags=["analytics"])


class BucketOut(Schema):
    start: date
    gross: dict[str, str]
    refunds: dict[str, str]
    net: dict[str, str]
    orders: int
    new_customers: int
    returning_customers: int


class TopProductOut(Schema):
    product_id: int
    name: str
    quantity: int
    revenue: dict[str, str]


class AnalyticsOut(Schema):
    start_day: date
    end_day: date
    grain: str
    time_zone: str
    includes_test_orders: bool
    gross: dict[str, str]
    refunds: dict[str, str]
    net: dict[str, str]
    orders_paid: int
    orders_started: int
    conversion: float | None
    customers_new: int
    customers_returning: int
    refund_rate: float | None
    dispute_rate: float | None
    delivery_median_seconds: float | None
    commands_failed: int
    webhooks_succeeded: int
    webhooks_failed: int
    top_products: list[TopProductOut]
    buckets: list[BucketOut]


def _money(values: dict) -> dict[str, str]:
    return {currency: money_str(amount, currency) for currency, amount in values.items()}


@router.get("/analytics", response=AnalyticsOut, auth=scope("orders:read"))
def analytics(request: HttpRequest, period: Literal["7d", "30d", "90d", "365d"] = "30d",
              grain: Literal["day", "week", "month"] = "day"):
    """The dashboard's Analytics page: paid orders by the day they were paid, refunds by the
    day they settled, in the store's time zone; test orders only while in test mode."""
    r = report(store=request.store, period=period, grain=grain)
    return {
        "start_day": r.start_day, "end_day": r.end_day, "grain": r.grain,
        "time_zone": r.zone, "includes_test_orders": r.includes_test_orders,
        "gross": _money(r.gross), "refunds": _money(r.refunds),
        "net": _money(r.net_by_currency), "orders_paid": r.orders_paid,
        "orders_started": r.orders_started, "conversion": r.conversion,
        "customers_new": r.customers_new, "customers_returning": r.customers_returning,
        "refund_rate": r.refund_rate, "dispute_rate": r.dispute_rate,
        "delivery_median_seconds": r.delivery_median_seconds,
        "commands_failed": r.commands_failed, "webhooks_succeeded": r.webhooks_succeeded,
        "webhooks_failed": r.webhooks_failed,
        "top_products": [{"product_id": p.product_id, "name": p.name, "quantity": p.quantity,
                          "revenue": _money(p.revenue)} for p in r.top_products],
        "buckets": [{"start": b.start, "gross": _money(b.gross), "refunds": _money(b.refunds),
                     "net": _money({c: b.net(c) for c in set(b.gross) | set(b.refunds)}),
                     "orders": b.orders, "new_customers": b.new_customers,
                     "returning_customers": b.returning_customers} for b in r.buckets],
    }
