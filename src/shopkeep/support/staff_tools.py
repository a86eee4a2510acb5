"""Platform staff tools: ticket priority, canned replies, and e-mail to staff for new
platform tickets and SLA breaches."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from shopkeep.accounts.models import User
from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import ServiceError
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.support.models import CannedReply, Kind, Priority, Status, Ticket
from shopkeep.support.tasks import send_support_email


def _require_staff(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_staff or actor.token is not None:
        raise ServiceError("forbidden", "Only platform staff do this.", status=403)


def staff_emails(ticket: Ticket | None = None) -> list[str]:
    """The assignee when there is one, else every active staff member."""
    if ticket is not None and ticket.assignee_id and ticket.assignee.is_active:
        return [ticket.assignee.email]
    return sorted(User.objects.filter(is_staff=True, is_active=True)
                  .values_list("email", flat=True))


def _staff_link(ticket: Ticket) -> str:
    return absolute_url(reverse("staff:ticket", args=[ticket.pk]))


def notify_staff_new_ticket(ticket: Ticket) -> None:
    """Queued in the ticket's transaction (support.services.platform_ticket_create)."""
    to = staff_emails()
    if to:
        send_support_email.enqueue(
            to=to, subject=f"[Platform support] New {ticket.get_priority_display().lower()} "
            f"ticket {ticket.number}: {ticket.subject}",
            body=(f"{ticket.store.name} ({ticket.get_plan_display()} plan) opened a "
                  f"{ticket.category.replace('_', ' ')} ticket.\n\n{_staff_link(ticket)}\n"))


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, actor: Actor, priority: str) -> Ticket:
    _require_staff(actor)
    if ticket.kind != Kind.PLATFORM:
        raise ServiceError("not_platform", "Staff set the priority of platform tickets.")
    if priority not in Priority.values:
        raise ServiceError("invalid_priority", "Choose a priority.", field="priority")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.priority == priority:
        return ticket
    previous = ticket.priority
    ticket.priority = priority
    ticket.save(update_fields=["priority"])
    audit_record(store=ticket.store, actor=actor, action="ticket.priority_changed", obj=ticket,
                 details={"from": previous, "to": priority})
    return ticket


def breaches_notify(*, now: datetime | None = None) -> int:
    """E-mail staff once per breach of an open platform ticket's response clock. Each claim
    is a conditional UPDATE on the breach moment, so parallel runs send one mail."""
    now = now or timezone.now()
    sent = 0
    due = (Ticket.objects.filter(kind=Kind.PLATFORM, breach_at__lte=now)
           .exclude(status=Status.CLOSED).select_related("store", "assignee")[:200])
    for ticket in due:
        if ticket.breach_notified_for == ticket.breach_at:
            continue
        with transaction.atomic():
            claimed = Ticket.objects.filter(pk=ticket.pk, breach_at=ticket.breach_at).exclude(
                breach_notified_for=ticket.breach_at).update(
                breach_notified_for=ticket.breach_at)
            if claimed != 1:
                continue
            to = staff_emails(ticket)
            if to:
                send_support_email.enqueue(
                    to=to, subject=f"[Platform support] SLA breached: {ticket.number} "
                    f"{ticket.subject}",
                    body=(f"The response to {ticket.store.name}'s ticket "
                          f"({ticket.get_plan_display()} plan, "
                          f"{ticket.get_priority_display()} priority) is past its breach "
                          f"time.\n\n{_staff_link(ticket)}\n"))
            sent += 1
    return sent


def _clean(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ServiceError("required", "A canned reply needs a title and a text.")
    return title[:120], body[:10000]


@transaction.atomic
def canned_reply_save(*, actor: Actor, title: str, body: str,
                      reply_id: int | None = None) -> CannedReply:
    _require_staff(actor)
    title, body = _clean(title, body)
    if reply_id is None:
        reply = CannedReply(created_by=actor.user)
    else:
        reply = CannedReply.objects.select_for_update().filter(pk=reply_id).first()
        if reply is None:
            raise ServiceError("not_found", "No such canned reply.", status=404)
    reply.title, reply.body, reply.updated_at = title, body, timezone.now()
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        raise ServiceError("title_taken", "Another canned reply has this title.",
                           field="title") from None
    audit_record(store=None, actor=actor, action="support.canned_reply_saved", obj=reply,
                 details={"title": title})
    return reply


@transaction.atomic
def canned_reply_delete(*, actor: Actor, reply_id: int) -> None:
    _require_staff(actor)
    reply = CannedReply.objects.filter(pk=reply_id).first()
    if reply is None:
        raise ServiceError("not_found", "No such canned reply.", status=404)
    audit_record(store=None, actor=actor, action="support.canned_reply_deleted", obj=reply,
                 details={"title": reply.title})
    reply.delete()
