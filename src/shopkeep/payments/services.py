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

from shopkeep.payments.flows import notice_apply
from shopkeep.payments.gateways.base import NOTICE_KINDS, Notice
from shopkeep.payments.models import GatewayEvent
from shopkeep.stores.models import Store

logger = logging.getLogger("shopkeep.payments")


def _json(notice: Notice) -> dict:
    # Full isoformat, not DjangoJSONEncoder: that one cuts microseconds, and a deferred
    # notice re-applied later must carry exactly the period the provider sent.
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(notice).items()}


def notice_receive(*, store: Store, gateway: str, notice: Notice) -> str:
    """Record and apply one notice about ``store``'s payments (the store the callback is
    for: the Stripe connection's, the sandbox account's). Everything it touches is looked up
    inside that store, so a notice naming another store's order changes nothing there.
    Returns what happened, for logs and the callback reply."""
    if notice.kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {notice.kind!r}")
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = GatewayEvent.objects.create(
                    store=store, gateway=gateway, event_id=notice.event_id[:128],
                    kind=notice.kind, reference=notice.reference[:64], payload=_json(notice))
        except IntegrityError:
            return "duplicate"
        applied = notice_apply(store=store, gateway=gateway, n=notice)
        if applied:
            event.processed_at = timezone.now()
            event.outcome = applied
            event.save(update_fields=["processed_at", "outcome"])
        else:
            event.outcome = "waiting: its subject is not known yet"
            event.save(update_fields=["outcome"])
    if applied and notice.reference:
        _retry_waiting(store, gateway, notice.reference)
    return applied or "deferred"


def notice_record(*, store: Store, gateway: str, notice: Notice) -> GatewayEvent | None:
    """Record a notice to be applied later by ``notice_process`` (the worker's task), inside
    the caller's transaction; None if this event id was recorded before."""
    if notice.kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {notice.kind!r}")
    try:
        with transaction.atomic():
            return GatewayEvent.objects.create(
                store=store, gateway=gateway, event_id=notice.event_id[:128], kind=notice.kind,
                reference=notice.reference[:64], payload=_json(notice),
                outcome="queued")
    except IntegrityError:
        return None


def notice_process(*, event_id: int) -> str:
    """Apply one recorded notice exactly once (the row lock and ``processed_at`` decide);
    safe to run again, from any number of processes."""
    with transaction.atomic():
        # No select_related: PostgreSQL refuses FOR UPDATE on the nullable side of the join.
        event = GatewayEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return "gone"
        if event.processed_at is not None:
            return "already applied"
        if event.store is None:
            return "no store: recorded before notices named one"
        notice = _notice_from_payload(event.payload)
        applied = notice_apply(store=event.store, gateway=event.gateway, n=notice)
        if applied:
            event.processed_at = timezone.now()
            event.outcome = applied
            event.save(update_fields=["processed_at", "outcome"])
        else:
            event.outcome = "waiting: its subject is not known yet"
            event.save(update_fields=["outcome"])
    if applied and notice.reference:
        _retry_waiting(event.store, event.gateway, notice.reference)
    return applied or "deferred"


def _retry_waiting(store: Store, gateway: str, reference: str) -> None:
    waiting = GatewayEvent.objects.filter(store=store, gateway=gateway, reference=reference,
                                          processed_at__isnull=True).order_by("received_at")
    for event in waiting:
        with transaction.atomic():
            locked = GatewayEvent.objects.select_for_update().filter(
                pk=event.pk, processed_at__isnull=True).first()
            if locked is None:
                continue
            notice = _notice_from_payload(locked.payload)
            applied = notice_apply(store=store, gateway=gateway, n=notice)
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
