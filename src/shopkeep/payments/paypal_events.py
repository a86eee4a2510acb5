"""Verified PayPal webhook events -> gateway notices for one store.

The notices' subjects are found inside the store whose webhook received the event: a capture
by its ``custom_id`` (our order number, set on the purchase unit), a refund and a dispute by
the capture they are about (our ``gateway_payment_id``), a subscription by its id or its
``custom_id``. Two events need PayPal's API before anything can be applied and go to the
worker (``payments.paypal_worker``): ``CHECKOUT.ORDER.APPROVED`` (the capture) and
``PAYMENT.SALE.COMPLETED`` (a renewal's new period is read from the subscription).
"""

from __future__ import annotations

from django.utils import timezone

from shopkeep.orders.models import Order
from shopkeep.payments.gateways.base import DISPUTE_REASONS, Notice
from shopkeep.payments.gateways.paypal import activation_notice, minor_of, parse_time
from shopkeep.payments.gateways.paypal_api import link
from shopkeep.stores.models import Store
from shopkeep.subscriptions.models import Subscription

# The webhook Shopkeep creates (or completes) on each store's PayPal app subscribes to these.
EVENTS = (
    "CHECKOUT.ORDER.APPROVED",
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.DECLINED",
    "PAYMENT.CAPTURE.REFUNDED",
    "BILLING.SUBSCRIPTION.ACTIVATED",
    "BILLING.SUBSCRIPTION.CANCELLED",
    "BILLING.SUBSCRIPTION.EXPIRED",
    "BILLING.SUBSCRIPTION.SUSPENDED",
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
    "PAYMENT.SALE.COMPLETED",
    "CUSTOMER.DISPUTE.CREATED",
    "CUSTOMER.DISPUTE.UPDATED",
    "CUSTOMER.DISPUTE.RESOLVED",
)
WORKER_EVENTS = frozenset({"CHECKOUT.ORDER.APPROVED", "PAYMENT.SALE.COMPLETED"})
DISPUTE_REASON_MAP = {
    "UNAUTHORISED": "fraudulent",
    "MERCHANDISE_OR_SERVICE_NOT_RECEIVED": "product_not_received",
    "DUPLICATE_TRANSACTION": "duplicate",
    "CREDIT_NOT_PROCESSED": "credit_not_processed",
    "CANCELED_RECURRING_BILLING": "subscription_canceled",
}
PAYPAL_DISPUTE_WORDS = {
    "MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED":
        "Customer says the purchase was not as described",
    "INCORRECT_AMOUNT": "Customer says the amount charged was wrong",
    "PAYMENT_BY_OTHER_MEANS": "Customer says they paid by other means",
    "PROBLEM_WITH_REMITTANCE": "Customer reports a problem with the payment",
}
# PayPal's outcomes, as seed 002's final statuses. Seller protection (RESOLVED_WITH_PAYOUT:
# PayPal paid the buyer itself) leaves the store's money where it was, like a win.
OUTCOMES = {"RESOLVED_BUYER_FAVOUR": "lost", "ACCEPTED": "lost",
            "RESOLVED_SELLER_FAVOUR": "won", "RESOLVED_WITH_PAYOUT": "won",
            "DENIED": "won", "CANCELED_BY_BUYER": "won", "NONE": "won"}


def _orders(store: Store):
    return Order.objects.filter(store=store, payment_gateway="paypal")


def _capture_id_of_refund(refund: dict) -> str:
    up = link(refund, "up")
    return up.rstrip("/").rsplit("/", 1)[-1] if "/captures/" in up else ""


def notices_for(event: dict, *, store: Store) -> list[Notice] | None:
    """The notices for one verified event: None for a type Shopkeep does not use, [] for one
    that changes nothing here (another store's order, a pending capture)."""
    kind = str(event.get("event_type") or "")
    handler = _HANDLERS.get(kind)
    if handler is None:
        return None
    base = {"event_id": str(event["id"]),
            "occurred_at": parse_time(event.get("create_time")) or parse_time(
                event["resource"].get("update_time")) or parse_time(
                event["resource"].get("create_time"))}
    if base["occurred_at"] is None:
        base["occurred_at"] = timezone.now()
    return handler(event["resource"], base, store)


def _capture(resource: dict, base: dict, store: Store, *, kind: str) -> list[Notice]:
    reference = str(resource.get("custom_id") or "")
    if not reference or not _orders(store).filter(order_number=reference).exists():
        return []
    amount, currency = minor_of(resource.get("amount"))
    order_id = str(((resource.get("supplementary_data") or {}).get("related_ids") or {})
                   .get("order_id") or "")
    extra = {}
    if kind == "payment.failed":
        reason = str((resource.get("status_details") or {}).get("reason") or "declined")
        extra = {"error_code": reason.lower(), "error_message": "PayPal declined the payment."}
    return [Notice(kind=kind, reference=reference, payment_id=str(resource.get("id") or ""),
                   charge_id=order_id, amount_minor=amount, currency=currency, **extra,
                   **base)]


def _capture_completed(resource: dict, base: dict, store: Store) -> list[Notice]:
    return _capture(resource, base, store, kind="payment.succeeded")


def _capture_denied(resource: dict, base: dict, store: Store) -> list[Notice]:
    return _capture(resource, base, store, kind="payment.failed")


def _refunded(resource: dict, base: dict, store: Store) -> list[Notice]:
    capture_id = _capture_id_of_refund(resource)
    order = _orders(store).filter(gateway_payment_id=capture_id).first() if capture_id else None
    if order is None:
        return []
    amount, currency = minor_of(resource.get("amount"))
    key = str(resource.get("custom_id") or "")
    raw = {"idempotency_key": key} if key.startswith("shopkeep-refund-") else {}
    return [Notice(kind="refund.succeeded", reference=order.order_number,
                   payment_id=str(resource.get("id") or ""), charge_id=capture_id,
                   amount_minor=amount, currency=currency, raw=raw, **base)]


def _dispute(resource: dict, base: dict, store: Store) -> list[Notice]:
    transactions = resource.get("disputed_transactions") or []
    ids = [str(t.get("seller_transaction_id") or "") for t in transactions
           if isinstance(t, dict)]
    order = _orders(store).filter(gateway_payment_id__in=[i for i in ids if i]).first()
    if order is None:
        # A subscription's payment is a sale Shopkeep does not keep: the transaction's
        # ``custom`` is the subscription's custom_id, our order number.
        customs = [str(t.get("custom") or "") for t in transactions if isinstance(t, dict)]
        order = _orders(store).filter(order_number__in=[c for c in customs if c]).first()
    if order is None:
        return []
    amount, currency = minor_of(resource.get("dispute_amount"))
    code = str(resource.get("reason") or "")
    reason = DISPUTE_REASON_MAP.get(code, "general")
    words = PAYPAL_DISPUTE_WORDS.get(code) or DISPUTE_REASONS.get(reason, "")
    status = str(resource.get("status") or "")
    common = {"reference": order.order_number, "payment_id": order.gateway_payment_id,
              "charge_id": order.gateway_payment_id,
              "dispute_id": str(resource.get("dispute_id") or ""),
              "amount_minor": amount or 0, "currency": currency, "dispute_reason": reason,
              "dispute_reason_description": words,
              "evidence_due_by": parse_time(resource.get("seller_response_due_date")), **base}
    if not common["dispute_id"]:
        return []
    if status == "RESOLVED":
        outcome = str((resource.get("dispute_outcome") or {}).get("outcome_code") or "NONE")
        final = OUTCOMES.get(outcome, "won")
        if final == "won" and resource.get("dispute_life_cycle_stage") == "INQUIRY":
            final = "warning_closed"  # an inquiry closed before it became a claim
        return [Notice(kind="dispute.closed", dispute_status=final, **common)]
    shown = "under_review" if status == "UNDER_REVIEW" else "needs_response"
    return [Notice(kind="dispute.created", dispute_status=shown, **common)]


def _subscription_of(store: Store, resource: dict) -> Subscription | None:
    return Subscription.objects.filter(store=store, payment_gateway="paypal",
                                       gateway_subscription_id=str(resource.get("id"))).first()


def _activated(resource: dict, base: dict, store: Store) -> list[Notice]:
    reference = str(resource.get("custom_id") or "")
    if not reference or not _orders(store).filter(order_number=reference).exists():
        return []
    notice = activation_notice(resource, event_id=base["event_id"])
    return [notice] if notice is not None else []


def _cancelled(resource: dict, base: dict, store: Store) -> list[Notice]:
    sub = _subscription_of(store, resource)
    if sub is None:
        return []
    common = {"reference": sub.order.order_number if sub.order_id else "",
              "subscription_id": sub.gateway_subscription_id, **base}
    if (resource.get("status") == "CANCELLED" and sub.current_period_end
            and sub.current_period_end > base["occurred_at"]):
        # Cancelled by the buyer at PayPal: billing stops, the paid period is kept.
        return [Notice(kind="subscription.updated", subscription_status="active",
                       cancel_at_period_end=True, period_start=sub.current_period_start,
                       period_end=sub.current_period_end, **common)]
    return [Notice(kind="subscription.cancelled", **common)]


def _suspended(resource: dict, base: dict, store: Store) -> list[Notice]:
    sub = _subscription_of(store, resource)
    if sub is None:
        return []
    return [Notice(kind="subscription.updated", subscription_status="past_due",
                   reference=sub.order.order_number if sub.order_id else "",
                   subscription_id=sub.gateway_subscription_id,
                   period_start=sub.current_period_start, period_end=sub.current_period_end,
                   **base)]


def _payment_failed(resource: dict, base: dict, store: Store) -> list[Notice]:
    sub = _subscription_of(store, resource)
    if sub is None:
        return []
    info = resource.get("billing_info") or {}
    failed = info.get("last_failed_payment") or {}
    reason = str(failed.get("reason_code") or "payment_failed").lower()
    amount, currency = minor_of(failed.get("amount"))
    return [Notice(kind="subscription.payment_failed",
                   reference=sub.order.order_number if sub.order_id else "",
                   subscription_id=sub.gateway_subscription_id, amount_minor=amount,
                   currency=currency, error_code=reason,
                   error_message=f"PayPal could not collect the payment "
                                 f"(failed {info.get('failed_payments_count') or 1} time(s)).",
                   **base)]


_HANDLERS = {
    "PAYMENT.CAPTURE.COMPLETED": _capture_completed,
    "PAYMENT.CAPTURE.DENIED": _capture_denied,
    "PAYMENT.CAPTURE.DECLINED": _capture_denied,
    "PAYMENT.CAPTURE.REFUNDED": _refunded,
    "CUSTOMER.DISPUTE.CREATED": _dispute,
    "CUSTOMER.DISPUTE.UPDATED": _dispute,
    "CUSTOMER.DISPUTE.RESOLVED": _dispute,
    "BILLING.SUBSCRIPTION.ACTIVATED": _activated,
    "BILLING.SUBSCRIPTION.CANCELLED": _cancelled,
    "BILLING.SUBSCRIPTION.EXPIRED": _cancelled,
    "BILLING.SUBSCRIPTION.SUSPENDED": _suspended,
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED": _payment_failed,
}
