"""Every e-mail Shopkeep sends for a store: which event makes it, who gets it, what it says.

A context is built from the event's data (a snapshot of what happened) plus the order row for
the links and pricing that payloads do not carry; it is stored on the outbox row, so the mail
says what was true when it happened, and the dashboard preview renders the same templates from
a sample context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from shopkeep.core.absolute import absolute_url
from shopkeep.core.money import money_str
from shopkeep.notifications.models import EmailUnsubscribe, StoreEmailSettings
from shopkeep.orders.models import Order
from shopkeep.promotions.giftcards import gift_cards_sold_by
from shopkeep.stores.models import Store
from shopkeep.subscriptions.models import Renewal


@dataclass(frozen=True)
class EmailKind:
    name: str
    label: str
    event_type: str
    audience: str  # "buyer", or the MemberEmailPreference flag of owner notices
    subject: str  # str.format() over the context
    build: Callable[[Store, dict], dict[str, Any] | None]  # None: no mail for this event
    # Asked again right before sending (scheduled mails): False skips the row, e.g. an
    # abandoned-basket reminder whose order was paid in the meantime.
    still_wanted: Callable[[Any], bool] | None = None

    @property
    def for_buyer(self) -> bool:
        return self.audience == "buyer"


def order_url(store: Store, order: Order) -> str:
    return absolute_url(reverse("storefront:order", args=[store.slug, order.access_key]))


def _order(store: Store, order_id: Any) -> Order | None:
    return (Order.objects.filter(store=store, pk=order_id)
            .prefetch_related("items__upgrade_from")
            .select_related("gift_card").first() if isinstance(order_id, int) else None)


def order_context(store: Store, order: Order) -> dict[str, Any]:
    from shopkeep.delivery.models import DeliveryCommand

    money = lambda amount: money_str(amount, order.currency)  # noqa: E731
    waits = DeliveryCommand.objects.filter(order=order, require_online=True,
                                           status__in=["pending", "retrying"]).exists()
    items = list(order.items.all())
    return {
        "order_number": order.order_number, "order_url": order_url(store, order),
        "customer_name": order.customer_name, "customer_email": order.customer_email,
        "player_name": order.player_name, "currency": order.currency,
        "items": [{"name": i.product_name, "quantity": i.quantity,
                   "unit_price": money(i.unit_price), "total": money(i.total),
                   "list_price": money(i.list_price) if i.list_price is not None
                   and i.list_price != i.unit_price else "",
                   "sale_name": i.sale_name, "delivery_status": i.delivery_status,
                   "upgrade_credit": money(i.upgrade_credit) if i.upgrade_credit else "",
                   "upgrade_from": i.upgrade_from.product_name if i.upgrade_from_id else ""}
                  for i in items],
        "subtotal": money(order.subtotal), "discount": money(order.discount)
        if order.discount else "", "coupon_code": order.coupon_code,
        "tax": money(order.tax) if order.tax else "", "tax_inclusive": order.tax_inclusive,
        "tax_rate": format(order.tax_rate.normalize(), "f") if order.tax else "",
        "reverse_charge": order.reverse_charge, "vat_number": order.vat_number,
        "total": money(order.total),
        "gift_card_amount": money(order.gift_card_amount) if order.gift_card_amount else "",
        "gift_card_last4": order.gift_card.code[-4:] if order.gift_card_id else "",
        "amount_charged": money(order.amount_due), "is_test": order.is_test_order,
        "waits_online": waits, "is_subscription": any(
            i.product_type == "subscription" for i in items),
    }


def _receipt(store: Store, data: dict) -> dict | None:
    order = _order(store, data.get("id"))
    if order is None:
        return None
    context = order_context(store, order)
    # A subscription's first payment is announced by subscription.created's own mail.
    return None if context["is_subscription"] else context


def _gift_cards(store: Store, data: dict) -> dict | None:
    """The codes of gift cards the order bought. The code is the card: this mail and the
    order page are the only places it is shown in full."""
    order = _order(store, data.get("id"))
    if order is None:
        return None
    cards = gift_cards_sold_by(store=store, order_number=order.order_number)
    if not cards:
        return None
    return {"order_number": order.order_number, "order_url": order_url(store, order),
            "customer_name": order.customer_name, "customer_email": order.customer_email,
            "currency": order.currency,
            "cards": [{"code": c.display_code, "amount": money_str(c.initial_balance,
                                                                   c.currency),
                       "note": c.note} for c in cards],
            "balance_url": absolute_url(reverse("storefront:gift_card", args=[store.slug]))}


def _new_sale(store: Store, data: dict) -> dict | None:
    order = _order(store, data.get("id"))
    if order is None:
        return None
    context = order_context(store, order)
    context["dashboard_url"] = absolute_url(reverse("dashboard:order_detail",
                                                    args=[store.slug, order.pk]))
    return context


def _refund(store: Store, data: dict) -> dict | None:
    order = _order(store, data.get("id"))
    if order is None:
        return None
    context = order_context(store, order)
    latest = order.refunds.filter(status="succeeded").order_by("-settled_at", "-id").first()
    context |= {"refund_amount": data.get("refund_amount", ""),
                "refund_reason": data.get("reason", ""),
                "refund_to_gift_card": money_str(latest.gift_card_amount, order.currency)
                if latest is not None and latest.gift_card_amount else "",
                "fully_refunded": data.get("status") == "refunded"}
    return context


def _subscription(store: Store, data: dict) -> dict | None:
    customer = data.get("customer") or {}
    product = data.get("product") or {}
    if not customer.get("email"):
        return None
    return {"customer_email": customer.get("email"), "customer_name": customer.get("name", ""),
            "product_name": product.get("name", ""), "amount": data.get("amount")
            or product.get("price", ""), "currency": data.get("currency") or store.currency,
            "interval": product.get("billing_interval", ""),
            "period_end": (data.get("current_period_end") or "")[:10],
            "next_billing_date": data.get("next_billing_date", ""),
            "next_retry_at": (data.get("next_retry_at") or "")[:10],
            "error_message": data.get("error_message", ""),
            "ends_at": data.get("ends_at", ""),
            "account_url": absolute_url(reverse("storefront:account", args=[store.slug])),
            **_renewal_tax(store, data)}


def _renewal_tax(store: Store, data: dict) -> dict:
    """A renewal receipt's tax line: the renewal row of this period (rates of its day)."""
    period_end = data.get("current_period_end") or ""
    if not isinstance(data.get("id"), int) or not data.get("renewed_at"):
        return {}
    renewal = (Renewal.objects.filter(store=store, subscription_id=data["id"], succeeded=True)
               .order_by("-id").first())
    if renewal is None or not renewal.tax or (
            renewal.period_end and not period_end.startswith(
                renewal.period_end.strftime("%Y-%m-%dT%H:%M"))):
        return {}
    return {"tax": money_str(renewal.tax, store.currency),
            "tax_rate": format(renewal.tax_rate.normalize(), "f")}


def _delivery_failed(store: Store, data: dict) -> dict | None:
    return {"order_number": data.get("order_number", ""),
            "items": [{"name": i.get("product_name", ""), "quantity": i.get("quantity", 1)}
                      for i in data.get("items", [])],
            "error": data.get("error", ""), "error_code": data.get("error_code", ""),
            "attempt_count": data.get("attempt_count", 0),
            "server_name": (data.get("server") or {}).get("name", ""),
            "dashboard_url": absolute_url(reverse("dashboard:orders", args=[store.slug]))}


def _dispute(store: Store, data: dict) -> dict | None:
    from shopkeep.core.money import from_minor

    currency = data.get("currency") or store.currency
    amount = data.get("amount")
    return {"order_number": data.get("order_number", ""),
            "amount": money_str(from_minor(amount, currency), currency)
            if isinstance(amount, int) else "", "currency": currency,
            "reason": data.get("reason", ""),
            "reason_description": data.get("reason_description", ""),
            "evidence_due_by": (data.get("evidence_due_by") or "")[:10],
            "dashboard_url": absolute_url(reverse("dashboard:disputes", args=[store.slug]))}


ABANDONED = "abandoned_basket"


def unsubscribed(store_id: int, email: str) -> bool:
    return EmailUnsubscribe.objects.filter(store_id=store_id, email=email.lower(),
                                           kind=ABANDONED).exists()


def abandoned(order: Order) -> bool:
    """Still left: unpaid, and the buyer has not paid for another order since."""
    if order.paid_at is not None:
        return False
    return not Order.objects.filter(store_id=order.store_id, customer_id=order.customer_id,
                                    paid_at__isnull=False,
                                    created_at__gte=order.created_at).exists()


def _abandoned_still_wanted(row: Any) -> bool:
    order = Order.objects.filter(store_id=row.store_id, pk=row.context.get("order_id")).first()
    settings_row = StoreEmailSettings.objects.filter(store_id=row.store_id).first()
    return (order is not None and settings_row is not None and settings_row.abandoned_basket
            and abandoned(order) and not unsubscribed(row.store_id, row.recipient))


def _scheduled(store: Store, data: dict) -> dict | None:
    return None  # made by the periodic jobs in scheduled.py, never from an event


KINDS: dict[str, EmailKind] = {k.name: k for k in (
    EmailKind("receipt", "Order receipt", "order.received", "buyer",
              "Your receipt for order {order_number}", _receipt),
    EmailKind("gift_card", "Gift card bought", "order.received", "buyer",
              "Your gift card code for {order_number}", _gift_cards),
    EmailKind("refund", "Refund confirmation", "order.refunded", "buyer",
              "Refund of {refund_amount} {currency} for order {order_number}", _refund),
    EmailKind("subscription_started", "Subscription started", "subscription.created",
              "buyer", "Your {product_name} subscription has started", _subscription),
    EmailKind("subscription_renewed", "Subscription renewed", "subscription.renewed",
              "buyer", "Receipt: {product_name} renewed", _subscription),
    EmailKind("subscription_payment_failed", "Renewal payment failed",
              "subscription.payment_failed", "buyer",
              "Action needed: your {product_name} renewal payment failed", _subscription),
    EmailKind("subscription_cancelled", "Subscription cancelled", "subscription.cancelled",
              "buyer", "Your {product_name} subscription is cancelled", _subscription),
    EmailKind("new_sale", "New sale (owner)", "order.received", "new_sale",
              "New sale: {total} {currency} (order {order_number})", _new_sale),
    EmailKind("delivery_failed", "Delivery failed (owner)", "delivery.failed",
              "delivery_failed", "Delivery failed for order {order_number}", _delivery_failed),
    EmailKind("dispute_opened", "Dispute opened (owner)", "dispute.created", "dispute_opened",
              "Dispute opened on order {order_number}: reply by {evidence_due_by}", _dispute),
    EmailKind("renewal_reminder", "Upcoming renewal", "", "buyer",
              "{product_name} renews on {renews_on}", _scheduled),
    EmailKind("daily_summary", "Daily summary (owner)", "", "daily_summary",
              "{store_name}: {orders} orders, {net} {currency} on {day}", _scheduled),
    EmailKind(ABANDONED, "Abandoned basket reminder", "", "buyer",
              "You left something in your basket at {store_name}", _scheduled,
              still_wanted=_abandoned_still_wanted),
)}
EVENT_TYPES = frozenset(k.event_type for k in KINDS.values() if k.event_type)


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return ""


def subject_for(kind: EmailKind, context: dict) -> str:
    return kind.subject.format_map(_Safe(context))[:200]
