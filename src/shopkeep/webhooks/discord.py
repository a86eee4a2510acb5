"""Seed 002's Discord embed: an emoji title per event, a colour by outcome, fields, the
event time and the store name in the footer. Data comes from event rows other apps write,
so every field is read defensively: a missing key shows as a dash, never an error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shopkeep.core.money import from_minor, money_str
from shopkeep.core.timefmt import iso

# GREEN is the colour of seed 002's example embed (2278621).
GREEN, RED, ORANGE, BLUE = 0x22C4DD, 0xEF4444, 0xF97316, 0x3B82F6

# Discord's limits on one embed.
TITLE_MAX, VALUE_MAX, MAX_FIELDS, FOOTER_MAX = 256, 1024, 25, 2048

Field = tuple[str, str, bool]


def _s(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return str(value)


def _amount(data: dict, key: str = "amount") -> str:
    return f"{_s(data.get('currency'))} {_s(data.get(key))}"


def _cents(data: dict) -> str:
    currency = str(data.get("currency") or "USD")
    try:
        return f"{currency} {money_str(from_minor(int(data.get('amount')), currency), currency)}"
    except (TypeError, ValueError, InvalidOperation, KeyError):
        return f"{currency} {_s(data.get('amount'))}"


def _items(data: dict) -> str:
    lines = [f"- {_s(i.get('product_name'))} (x{_s(i.get('quantity'))})"
             for i in data.get("items") or [] if isinstance(i, dict)]
    return "\n".join(lines) or "-"


def _nested(data: dict, key: str, field: str) -> str:
    value = data.get(key)
    return _s(value.get(field)) if isinstance(value, dict) else "-"


def _order(data: dict) -> list[Field]:
    return [("Order Number", _s(data.get("order_number")), True),
            ("Amount", _amount(data, "total"), True),
            ("Customer", _s(data.get("customer_email")), False),
            ("Items", _items(data), False)]


def _subscription(data: dict) -> list[Field]:
    return [("Product", _nested(data, "product", "name"), True),
            ("Customer", _nested(data, "customer", "email"), True)]


def _changes(data: dict) -> str:
    changes = data.get("changes") or {}
    if not isinstance(changes, dict):
        return "-"
    return "\n".join(f"{k}: {_s(v.get('old'))} → {_s(v.get('new'))}" if isinstance(v, dict)
                     else f"{k}" for k, v in changes.items()) or "-"


def _price(data: dict) -> str:
    try:
        return f"{_s(data.get('currency'))} {Decimal(str(data.get('price')))}"
    except (InvalidOperation, ValueError):
        return "-"


FORMATS: dict[str, tuple[str, int, Callable[[dict], list[Field]]]] = {
    "order.received": ("🛒 New Order", GREEN, _order),
    "purchase.completed": ("🛒 Purchase Completed", GREEN, _order),
    "order.created": ("📝 Order Created", BLUE, _order),
    "order.updated": ("🔄 Order Updated", BLUE, lambda d: [
        *_order(d)[:2], ("Status", f"{_s(d.get('status'))} / {_s(d.get('payment_status'))}",
                         True), *_order(d)[2:]]),
    "order.completed": ("📦 Order Completed", GREEN, _order),
    "order.refunded": ("💸 Order Refunded", RED, lambda d: [
        ("Order Number", _s(d.get("order_number")), True),
        ("Refund", _amount(d, "refund_amount"), True),
        ("Customer", _s(d.get("customer_email")), False),
        ("Reason", _s(d.get("reason")), False)]),
    "payment.failed": ("❌ Payment Failed", RED, lambda d: [
        ("Order Number", _s(d.get("order_number")), True), ("Amount", _amount(d), True),
        ("Customer", _s(d.get("customer_email")), False),
        ("Error", _s(d.get("error_message")), False)]),
    "subscription.created": ("🔁 New Subscription", GREEN, lambda d: [
        *_subscription(d),
        ("Price", f"{_nested(d, 'product', 'price')} / {_nested(d, 'product', 'billing_interval')}",
         True), ("Period Ends", _s(d.get("current_period_end")), True)]),
    "subscription.renewed": ("🔁 Subscription Renewed", GREEN, lambda d: [
        *_subscription(d), ("Amount", _amount(d), True),
        ("Next Billing", _s(d.get("next_billing_date")), True)]),
    "subscription.cancelled": ("🚫 Subscription Cancelled", RED, lambda d: [
        *_subscription(d), ("Ends", _s(d.get("ends_at")), True),
        ("Reason", _s(d.get("reason")), False)]),
    "subscription.payment_failed": ("⚠️ Subscription Payment Failed", RED, lambda d: [
        *_subscription(d), ("Amount", _amount(d), True),
        ("Error", _s(d.get("error_message")), False),
        ("Next Retry", _s(d.get("next_retry_at")), True)]),
    "customer.created": ("👤 New Customer", BLUE, lambda d: [
        ("Email", _s(d.get("email")), True), ("Name", _s(d.get("name")), True),
        ("Country", _s(d.get("country_name") or d.get("country")), True)]),
    "delivery.completed": ("✅ Delivery Completed", GREEN, lambda d: [
        ("Order Number", _s(d.get("order_number")), True),
        ("Server", _nested(d, "server", "name"), True),
        ("Customer", _s(d.get("customer_email")), False), ("Items", _items(d), False)]),
    "delivery.failed": ("❌ Delivery Failed", RED, lambda d: [
        ("Order Number", _s(d.get("order_number")), True),
        ("Server", _nested(d, "server", "name"), True),
        ("Attempts", _s(d.get("attempt_count")), True),
        ("Error", _s(d.get("error")), False), ("Items", _items(d), False)]),
    "ticket.created": ("🎫 New Ticket", BLUE, lambda d: [
        ("Subject", _s(d.get("subject")), False), ("Customer", _s(d.get("customer_email")), True),
        ("Priority", _s(d.get("priority")), True), ("Message", _s(d.get("message")), False)]),
    "ticket.reply": ("💬 Ticket Reply", BLUE, lambda d: [
        ("Subject", _s(d.get("subject")), False), ("Customer", _s(d.get("customer_email")), True),
        ("Message", _s(d.get("message")), False)]),
    "dispute.created": ("⚖️ Dispute Opened", ORANGE, lambda d: [
        ("Order Number", _s(d.get("order_number")), True), ("Amount", _cents(d), True),
        ("Reason", _s(d.get("reason")), True),
        ("Evidence Due", _s(d.get("due_by")), True)]),
    "dispute.resolved": ("⚖️ Dispute Resolved", ORANGE, lambda d: [
        ("Order Number", _s(d.get("order_number")), True), ("Amount", _cents(d), True),
        ("Outcome", _s(d.get("status")), True)]),
    "product.created": ("🆕 Product Created", BLUE, lambda d: [
        ("Name", _s(d.get("name")), True), ("Price", _price(d), True),
        ("Category", _s(d.get("category")), True)]),
    "product.updated": ("✏️ Product Updated", BLUE, lambda d: [
        ("Name", _s(d.get("name")), True), ("Price", _price(d), True),
        ("Changes", _changes(d), False)]),
    "product.deleted": ("🗑️ Product Deleted", BLUE, lambda d: [
        ("Name", _s(d.get("name")), True), ("Slug", _s(d.get("slug")), True)]),
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def embed_payload(*, event_type: str, data: dict[str, Any], created_at: datetime,
                  store_name: str, test: bool = False) -> dict[str, Any]:
    title, colour, build = FORMATS.get(event_type, (event_type, BLUE, lambda d: []))
    if test:
        title = f"🧪 Test: {title}"
    fields = [{"name": _clip(name, 256), "value": _clip(value, VALUE_MAX), "inline": inline}
              for name, value, inline in build(data)[:MAX_FIELDS]]
    return {"embeds": [{
        "title": _clip(title, TITLE_MAX),
        "color": colour,
        "timestamp": iso(created_at),
        "footer": {"text": _clip(f"Shopkeep - {store_name}", FOOTER_MAX)},
        "fields": fields,
    }]}
