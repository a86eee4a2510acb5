"""The daily auto-close job (seed 000: "no response within 7 days ... automatically
closed"), with a reminder on day 5.

Idempotent by construction: a closed ticket no longer waits, and a reminded one has
``reminder_sent_at``; each ticket is claimed under ``SELECT ... FOR UPDATE SKIP LOCKED`` or
a conditional UPDATE, so a second run, or two workers at once, change nothing more. A
reply clears ``waiting_since``, which is what stops the clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from shopkeep.stores.audit import Actor, audit_record
from shopkeep.support import notifications
from shopkeep.support.models import Status, Ticket
from shopkeep.support.services import ticket_close_system

logger = logging.getLogger("shopkeep.support")

AUTO_CLOSE_AFTER = timedelta(days=7)
REMINDER_AFTER = timedelta(days=5)
WAITING_FOR_REQUESTER = (Status.WAITING_FOR_STORE_OWNER, Status.WAITING_FOR_CUSTOMER)
CLOSE_NOTE = ("This ticket was closed automatically because we did not hear back within 7 "
              "days. Reopen it with a message whenever you need more help.")


def _close_due(now: datetime) -> int:
    closed = 0
    due = Ticket.objects.filter(status__in=WAITING_FOR_REQUESTER,
                                waiting_since__lte=now - AUTO_CLOSE_AFTER)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = (due.select_for_update(skip_locked=True, of=("self",))
                      .select_related("store").filter(pk=pk).first())
            if ticket is None:
                continue  # replied meanwhile, or another worker has it
            ticket_close_system(ticket=ticket, now=now, note=CLOSE_NOTE)
            closed += 1
    return closed


def _remind_due(now: datetime) -> int:
    reminded = 0
    due = Ticket.objects.filter(status__in=WAITING_FOR_REQUESTER, reminder_sent_at__isnull=True,
                                waiting_since__lte=now - REMINDER_AFTER,
                                waiting_since__gt=now - AUTO_CLOSE_AFTER)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            if not due.filter(pk=pk).update(reminder_sent_at=now):
                continue
            ticket = Ticket.objects.select_related("store", "created_by").get(pk=pk)
            left = AUTO_CLOSE_AFTER - (now - ticket.waiting_since)
            notifications.notify_reminder(ticket, closes_in_days=max(1, round(
                left.total_seconds() / 86400)))
            audit_record(store=ticket.store, actor=Actor.system("support auto-close"),
                         action="ticket.reminded", obj=ticket)
            reminded += 1
    return reminded


def tickets_auto_close(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    result = {"closed": _close_due(now), "reminded": _remind_due(now)}
    logger.info("support auto-close: %(closed)d closed, %(reminded)d reminded", result)
    return result
