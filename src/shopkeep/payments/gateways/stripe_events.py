"""Stripe webhook events -> gateway notices.

Every notice carries our order number (``reference``) from the metadata we put on the
Checkout Session, its PaymentIntent and its Subscription, so the webhook view can check that
the order belongs to the store whose endpoint received the event. The notice's ``event_id`` is
Stripe's event id: the same event delivered twice is recorded once (``notice_receive``).

Events about a charge (``charge.refunded``, ``charge.dispute.*``) carry no metadata of ours
and may need Stripe's API to find their order; they go to a worker (``stripe_charges``).
Parsing accepts both the current shapes (API version 2025-03-31 and later: the subscription on
``invoice.parent.subscription_details``, periods on subscription items) and the older ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shopkeep.payments.gateways.base import Notice
from shopkeep.payments.gateways.stripe_objects import STATES, dig, id_of

# What the owner selects in Stripe's dashboard; the settings page and the docs list these.
EVENTS = (
    "checkout.session.completed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
)
CHARGE_EVENTS = frozenset({"charge.refunded", "charge.dispute.created", "charge.dispute.closed"})


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _reference(obj: dict) -> str:
    return str(dig(obj, "metadata", "shopkeep_order", default="") or "")


def _invoice_subscription(invoice: dict) -> tuple[str, dict]:
    details = dig(invoice, "parent", "subscription_details", default={})
    sub = id_of(dig(details, "subscription")) or id_of(dig(invoice, "subscription"))
    metadata = dig(details, "metadata") or dig(invoice, "subscription_details", "metadata")
    if not metadata:
        metadata = dig(invoice, "lines", "data", 0, "metadata", default={})
    return sub, metadata or {}


def notices_for(event: dict) -> list[Notice] | None:
    """The notices for one verified event: None for a type we do not handle, [] for a known
    type that needs nothing (a subscription's Checkout Session: its invoice pays the order)."""
    kind = event.get("type", "")
    handler = _HANDLERS.get(kind)
    if handler is None:
        return None
    obj = event["data"]["object"]
    base = {"event_id": str(event["id"]), "occurred_at": _ts(event.get("created")) or
            datetime.now(tz=UTC)}
    return handler(obj, base, event)


def _session_completed(obj: dict, base: dict, event: dict) -> list[Notice]:
    if obj.get("mode") != "payment" or obj.get("payment_status") != "paid":
        # Subscriptions are paid by their first invoice (invoice.paid); delayed methods by
        # payment_intent.succeeded later.
        return []
    reference = _reference(obj) or str(obj.get("client_reference_id") or "")
    return [Notice(kind="payment.succeeded", reference=reference,
                   payment_id=id_of(obj.get("payment_intent")),
                   customer_id=id_of(obj.get("customer")),
                   amount_minor=obj.get("amount_total"),
                   currency=str(obj.get("currency") or "").upper(), **base)]


def _intent_succeeded(obj: dict, base: dict, event: dict) -> list[Notice]:
    reference = _reference(obj)
    if not reference:
        return []  # a subscription invoice's intent: invoice.paid tells
    return [Notice(kind="payment.succeeded", reference=reference, payment_id=obj["id"],
                   charge_id=id_of(obj.get("latest_charge")),
                   customer_id=id_of(obj.get("customer")),
                   amount_minor=obj.get("amount_received") or obj.get("amount"),
                   currency=str(obj.get("currency") or "").upper(), **base)]


def _intent_failed(obj: dict, base: dict, event: dict) -> list[Notice]:
    reference = _reference(obj)
    if not reference:
        return []
    error = obj.get("last_payment_error") or {}
    return [Notice(kind="payment.failed", reference=reference, payment_id=obj["id"],
                   amount_minor=obj.get("amount"),
                   currency=str(obj.get("currency") or "").upper(),
                   error_code=str(error.get("decline_code") or error.get("code")
                                  or "payment_failed"),
                   error_message=str(error.get("message") or "The payment failed."), **base)]


def _invoice_common(obj: dict) -> dict | None:
    sub_id, metadata = _invoice_subscription(obj)
    if not sub_id:
        return None
    line = dig(obj, "lines", "data", 0, default={})
    price = (id_of(dig(line, "pricing", "price_details", "price"))
             or id_of(dig(line, "price")))
    return {"reference": str(metadata.get("shopkeep_order") or ""), "subscription_id": sub_id,
            "customer_id": id_of(obj.get("customer")), "plan_id": price,
            "currency": str(obj.get("currency") or "").upper(),
            "period_start": _ts(dig(line, "period", "start")),
            "period_end": _ts(dig(line, "period", "end"))}


def _invoice_paid(obj: dict, base: dict, event: dict) -> list[Notice]:
    common = _invoice_common(obj)
    if common is None:
        return []
    reason = obj.get("billing_reason")
    if reason == "subscription_create":
        # The first invoice pays the order and starts the subscription (trials: 0 paid).
        return [Notice(kind="payment.succeeded", payment_id=obj["id"],
                       amount_minor=obj.get("amount_paid"), **common, **base)]
    if reason == "subscription_cycle":
        return [Notice(kind="subscription.renewed", payment_id=obj["id"],
                       amount_minor=obj.get("amount_paid"), **common, **base)]
    return []  # prorations and manual invoices change no period


def _invoice_failed(obj: dict, base: dict, event: dict) -> list[Notice]:
    common = _invoice_common(obj)
    if common is None:
        return []
    attempts = obj.get("attempt_count") or 1
    message = f"Stripe could not collect the payment (attempt {attempts})."
    if obj.get("billing_reason") == "subscription_create":
        return [Notice(kind="payment.failed", payment_id=obj["id"],
                       amount_minor=obj.get("amount_due"), error_code="payment_failed",
                       error_message=message, **common, **base)]
    return [Notice(kind="subscription.payment_failed", payment_id=obj["id"],
                   amount_minor=obj.get("amount_due"), error_code="payment_failed",
                   error_message=message, **common, **base)]


def _subscription_period(obj: dict) -> tuple[datetime | None, datetime | None]:
    start = dig(obj, "items", "data", 0, "current_period_start") or obj.get(
        "current_period_start")
    end = dig(obj, "items", "data", 0, "current_period_end") or obj.get("current_period_end")
    return _ts(start), _ts(end)


def _subscription_deleted(obj: dict, base: dict, event: dict) -> list[Notice]:
    start, end = _subscription_period(obj)
    return [Notice(kind="subscription.cancelled", reference=_reference(obj),
                   subscription_id=obj["id"], customer_id=id_of(obj.get("customer")),
                   period_start=start, period_end=end, **base)]


def _subscription_updated(obj: dict, base: dict, event: dict) -> list[Notice]:
    status = STATES.get(str(obj.get("status") or ""), "past_due")
    if status == "canceled":
        return _subscription_deleted(obj, base, event)
    start, end = _subscription_period(obj)
    return [Notice(kind="subscription.updated", reference=_reference(obj),
                   subscription_id=obj["id"], customer_id=id_of(obj.get("customer")),
                   period_start=start, period_end=end, subscription_status=status,
                   cancel_at_period_end=bool(obj.get("cancel_at_period_end")), **base)]


_HANDLERS = {
    "checkout.session.completed": _session_completed,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.updated": _subscription_updated,
    "customer.subscription.deleted": _subscription_deleted,
}
