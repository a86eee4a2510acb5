"""CSV exports of a period, streamed: rows are read in chunks with ``iterator()`` and written
as they go, so a store with a million orders exports without holding them in memory."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from shopkeep.customers.models import Customer
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.orders.models import Order, Refund
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm


@dataclass(frozen=True)
class Export:
    label: str
    perm: Perm
    rows: Callable[[Store], QuerySet]
    date_field: str
    columns: tuple[tuple[str, Callable[[object], object]], ...]


def _at(field: str) -> Callable[[object], object]:
    return lambda row: (getattr(row, field).isoformat() if getattr(row, field) else "")


def _f(field: str) -> Callable[[object], object]:
    return lambda row: getattr(row, field)


EXPORTS: dict[str, Export] = {
    "orders": Export("Orders", Perm.ORDERS_VIEW, lambda s: Order.objects.filter(store=s),
                     "created_at", (
        ("order_number", _f("order_number")), ("created_at", _at("created_at")),
        ("paid_at", _at("paid_at")), ("status", _f("status")),
        ("payment_status", _f("payment_status")), ("currency", _f("currency")),
        ("subtotal", _f("subtotal")), ("discount", _f("discount")), ("tax", _f("tax")),
        ("total", _f("total")), ("refunded", _f("refunded_amount")),
        ("customer_email", _f("customer_email")), ("player_name", _f("player_name")),
        ("coupon_code", _f("coupon_code")), ("gateway", _f("payment_gateway")),
        ("test", _f("is_test_order")))),
    "payments": Export("Payments", Perm.ORDERS_VIEW,
                       lambda s: Order.objects.filter(store=s, paid_at__isnull=False),
                       "paid_at", (
        ("order_number", _f("order_number")), ("paid_at", _at("paid_at")),
        ("gateway", _f("payment_gateway")), ("gateway_payment_id", _f("gateway_payment_id")),
        ("currency", _f("currency")), ("amount", _f("total")),
        ("refunded", _f("refunded_amount")), ("payment_status", _f("payment_status")),
        ("test", _f("is_test_order")))),
    "refunds": Export("Refunds", Perm.ORDERS_VIEW,
                      lambda s: Refund.objects.filter(store=s).select_related("order"),
                      "created_at", (
        ("order_number", lambda r: r.order.order_number), ("created_at", _at("created_at")),
        ("settled_at", _at("settled_at")), ("status", _f("status")),
        ("amount", _f("amount")), ("currency", lambda r: r.order.currency),
        ("reason", _f("reason")), ("requested_by", _f("requested_by")),
        ("gateway_refund_id", _f("gateway_refund_id")))),
    "customers": Export("Customers", Perm.CUSTOMERS_VIEW,
                        lambda s: Customer.objects.filter(store=s), "created_at", (
        ("email", _f("email")), ("name", _f("name")), ("player_name", _f("player_name")),
        ("minecraft_uuid", _f("minecraft_uuid")), ("steam_id", _f("steam_id")),
        ("discord_id", _f("discord_id")), ("country", _f("country")),
        ("created_at", _at("created_at")))),
    "deliveries": Export("Deliveries", Perm.ORDERS_VIEW,
                         lambda s: DeliveryCommand.objects.filter(store=s)
                         .select_related("order", "server"), "created_at", (
        ("order_number", lambda c: c.order.order_number if c.order_id else ""),
        ("origin", _f("origin")),
        ("server", lambda c: c.server.name if c.server else "Discord"),
        ("type", _f("type")), ("command", _f("command")), ("player_name", _f("player_name")),
        ("status", _f("status")), ("attempts", _f("attempt_count")),
        ("created_at", _at("created_at")), ("completed_at", _at("completed_at")),
        ("last_error", _f("last_error")))),
}


def period_bounds(store: Store, start: date, end: date) -> tuple[datetime, datetime]:
    """Whole days in the store's time zone, ``end`` included."""
    zone = ZoneInfo(store.time_zone)
    return (datetime.combine(start, time.min, zone),
            datetime.combine(end + timedelta(days=1), time.min, zone))


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    # A cell starting with = + - @ is a formula to spreadsheet programs: a player name like
    # "=HYPERLINK(...)" must stay text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_rows(*, store: Store, kind: str, start: date, end: date) -> Iterator[str]:
    spec = EXPORTS[kind]
    since, until = period_bounds(store, start, end)
    queryset = spec.rows(store).filter(**{f"{spec.date_field}__gte": since,
                                          f"{spec.date_field}__lt": until}).order_by("pk")
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in spec.columns])
    for row in queryset.iterator(chunk_size=500):
        yield writer.writerow([_cell(get(row)) for _, get in spec.columns])
