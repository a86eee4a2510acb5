"""Inbound gateway notices: recorded once, applied in one transaction, tolerant of order.

A notice whose subject is not known yet (a renewal that overtakes the first payment) is kept
unprocessed and re-applied after the next notice about the same reference succeeds; the
hourly reconciliation repairs anything still missing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from shopkeep.disputes.services import dispute_open, dispute_resolve
from shopkeep.orders.refunds import refund_record_external, refund_settle_by_key
from shopkeep.orders.services import order_mark_paid, order_payment_failed
from shopkeep.payments.gateways.base import NOTICE_KINDS, Notice, SubscriptionState
from shopkeep.payments.models import GatewayEvent
from shopkeep.stores.audit import Actor
from shopkeep.subscriptions.services import (
    subscription_apply_gateway_state,
    subscription_cancelled_by_gateway,
    subscription_payment_failed,
    subscription_renewed,
    subscription_start,
)

logger = logging.getLogger("shopkeep.payments")


def _json(notice: Notice) -> dict:
    # Full isoformat, not DjangoJSONEncoder: that one cuts microseconds, and a deferred
    # notice re-applied later must carry exactly the period the provider sent.
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(notice).items()}


def notice_receive(*, gateway: str, notice: Notice) -> str:
    """Record and apply one notice. Returns what happened, for logs and the callback reply."""
    if notice.kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {notice.kind!r}")
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = GatewayEvent.objects.create(
                    gateway=gateway, event_id=notice.event_id[:128], kind=notice.kind,
                    reference=notice.reference[:64], payload=_json(notice))
        except IntegrityError:
            return "duplicate"
        applied = _apply(gateway, notice)
        if applied:
            event.processed_at = timezone.now()
            event.outcome = applied
            event.save(update_fields=["processed_at", "outcome"])
        else:
            event.outcome = "waiting: its subject is not known yet"
            event.save(update_fields=["outcome"])
    if applied and notice.reference:
        _retry_waiting(gateway, notice.reference)
    return applied or "deferred"


def notice_record(*, gateway: str, notice: Notice) -> GatewayEvent | None:
    """Record a notice to be applied later by ``notice_process`` (the worker's task), inside
    the caller's transaction; None if this event id was recorded before."""
    if notice.kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {notice.kind!r}")
    try:
        with transaction.atomic():
            return GatewayEvent.objects.create(
                gateway=gateway, event_id=notice.event_id[:128], kind=notice.kind,
                reference=notice.reference[:64], payload=_json(notice),
                outcome="queued")
    except IntegrityError:
        return None


def notice_process(*, event_id: int) -> str:
    """Apply one recorded notice exactly once (the row lock and ``processed_at`` decide);
    safe to run again, from any number of processes."""
    with transaction.atomic():
        event = GatewayEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return "gone"
        if event.processed_at is not None:
            return "already applied"
        notice = _notice_from_payload(event.payload)
        applied = _apply(event.gateway, notice)
        if applied:
            event.processed_at = timezone.now()
            event.outcome = applied
            event.save(update_fields=["processed_at", "outcome"])
        else:
            event.outcome = "waiting: its subject is not known yet"
            event.save(update_fields=["outcome"])
    if applied and notice.reference:
        _retry_waiting(event.gateway, notice.reference)
    return applied or "deferred"


def _retry_waiting(gateway: str, reference: str) -> None:
    waiting = GatewayEvent.objects.filter(gateway=gateway, reference=reference,
                                          processed_at__isnull=True).order_by("received_at")
    for event in waiting:
        with transaction.atomic():
            locked = GatewayEvent.objects.select_for_update().filter(
                pk=event.pk, processed_at__isnull=True).first()
            if locked is None:
                continue
            notice = _notice_from_payload(locked.payload)
            applied = _apply(gateway, notice)
            if applied:
                locked.processed_at = timezone.now()
                locked.outcome = applied
                locked.save(update_fields=["processed_at", "outcome"])


def _notice_from_payload(payload: dict) -> Notice:
    data = dict(payload)
    for key in ("occurred_at", "period_start", "period_end", "evidence_due_by"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key].replace("Z", "+00:00"))
    known = {f.name for f in fields(Notice)}
    return Notice(**{key: value for key, value in data.items() if key in known})


def _apply(gateway: str, n: Notice) -> str:
    """Apply inside the caller's transaction; '' means "cannot yet"."""
    from shopkeep.orders.models import Order
    from shopkeep.subscriptions.models import Subscription

    if n.kind == "payment.succeeded":
        order = order_mark_paid(order_number=n.reference, gateway=gateway,
                                payment_id=n.payment_id, paid_at=n.occurred_at)
        if order is None:
            known = Order.objects.filter(order_number=n.reference).exists()
            return "already paid" if known else ""
        if n.subscription_id:
            subscription_start(order=order, notice=n)
        return f"order {order.order_number} paid"
    if n.kind == "payment.failed":
        order = order_payment_failed(order_number=n.reference, gateway=gateway,
                                     error_code=n.error_code, error_message=n.error_message,
                                     failed_at=n.occurred_at)
        return f"order {order.order_number} payment failed" if order else "ignored"
    if n.kind == "refund.succeeded":
        key = str((n.raw or {}).get("idempotency_key") or "")
        if key.startswith("shopkeep-refund-"):
            # One of ours that the gateway reported pending when it was made.
            settled = refund_settle_by_key(order_number=n.reference, gateway=gateway, key=key,
                                           gateway_refund_id=n.payment_id)
            return "refund settled" if settled else "refund already settled"
        refund = refund_record_external(order_number=n.reference, gateway=gateway,
                                        gateway_refund_id=n.payment_id,
                                        amount_minor=n.amount_minor or 0)
        return "refund recorded" if refund else "refund already known"
    if n.kind == "refund.failed":
        return "ignored"
    if n.kind in ("subscription.renewed", "subscription.payment_failed",
                  "subscription.cancelled", "subscription.updated"):
        if not Subscription.objects.filter(payment_gateway=gateway,
                                           gateway_subscription_id=n.subscription_id).exists():
            return ""
        if n.kind == "subscription.renewed":
            done = subscription_renewed(gateway=gateway, subscription_id=n.subscription_id,
                                        period_start=n.period_start, period_end=n.period_end,
                                        amount_minor=n.amount_minor, renewed_at=n.occurred_at)
        elif n.kind == "subscription.updated":
            done = _apply_state(gateway, n)
        elif n.kind == "subscription.payment_failed":
            done = subscription_payment_failed(gateway=gateway, subscription_id=n.subscription_id,
                                               error_code=n.error_code,
                                               error_message=n.error_message,
                                               failed_at=n.occurred_at)
        else:
            done = subscription_cancelled_by_gateway(gateway=gateway,
                                                     subscription_id=n.subscription_id)
        return f"{n.kind} applied" if done else f"{n.kind}: nothing to change"
    if n.kind == "dispute.created":
        dispute = dispute_open(gateway=gateway, order_number=n.reference,
                               dispute_id=n.dispute_id, charge_id=n.charge_id,
                               amount_minor=n.amount_minor or 0, currency=n.currency,
                               reason=n.dispute_reason,
                               reason_description=n.dispute_reason_description,
                               evidence_due_by=n.evidence_due_by, opened_at=n.occurred_at)
        return "dispute opened" if dispute else _known_order(n.reference, "dispute known")
    if n.kind == "dispute.closed":
        dispute = dispute_resolve(gateway=gateway, order_number=n.reference,
                                  dispute_id=n.dispute_id, status=n.dispute_status,
                                  charge_id=n.charge_id, amount_minor=n.amount_minor or 0,
                                  currency=n.currency, reason=n.dispute_reason,
                                  resolved_at=n.occurred_at)
        return "dispute resolved" if dispute else _known_order(n.reference, "dispute closed")
    raise ValueError(n.kind)  # pragma: no cover - NOTICE_KINDS is checked above


def _apply_state(gateway: str, n: Notice) -> bool:
    if n.period_start is None or n.period_end is None:
        return False
    state = SubscriptionState(status=n.subscription_status or "active",
                              current_period_start=n.period_start,
                              current_period_end=n.period_end,
                              cancel_at_period_end=n.cancel_at_period_end)
    return bool(subscription_apply_gateway_state(
        gateway=gateway, subscription_id=n.subscription_id, state=state, now=n.occurred_at,
        actor=Actor.system(gateway)))


def _known_order(reference: str, outcome: str) -> str:
    from shopkeep.orders.models import Order

    return outcome if Order.objects.filter(order_number=reference).exists() else ""
