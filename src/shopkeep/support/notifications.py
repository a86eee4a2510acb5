"""Ticket e-mails. Each is queued as a task in the transaction of the change it reports
(so a rolled-back change mails nobody) and sent by the worker through Django's e-mail
backend. Internal notes never produce mail."""

from __future__ import annotations

from django.urls import reverse

from shopkeep.core.absolute import absolute_url
from shopkeep.stores.models import Membership
from shopkeep.stores.permissions import Perm, role_has
from shopkeep.support.models import Kind, Message, Ticket
from shopkeep.support.tasks import send_support_email


def _members_with(ticket: Ticket, perm: Perm) -> list[str]:
    members = (Membership.objects.filter(store=ticket.store, user__is_active=True)
               .select_related("user").order_by("id"))
    return [m.user.email for m in members if role_has(m.role, perm)]


def requester_emails(ticket: Ticket) -> list[str]:
    if ticket.kind == Kind.CUSTOMER:
        return [ticket.customer_email] if ticket.customer_email else []
    allowed = _members_with(ticket, Perm.PLATFORM_SUPPORT)
    # The member who wrote the ticket hears about it; if they left the store, whoever may
    # still handle platform support does.
    if ticket.created_by_id and ticket.created_by.email in allowed:
        return [ticket.created_by.email]
    return allowed


def ticket_link(ticket: Ticket) -> str:
    """Where the requester reads the ticket: the dashboard, or the customer's follow link."""
    if ticket.kind == Kind.CUSTOMER:
        return absolute_url(reverse("storefront:support_ticket",
                                    args=[ticket.store.slug, ticket.access_key]))
    return absolute_url(reverse("dashboard:platform_ticket", args=[ticket.store.slug, ticket.pk]))


def _sender(ticket: Ticket) -> str:
    return "Shopkeep Support" if ticket.kind == Kind.PLATFORM else ticket.store.name


def _send(to: list[str], subject: str, body: str) -> None:
    if to:
        send_support_email.enqueue(to=sorted(set(to)), subject=subject, body=body)


def _subject(ticket: Ticket, what: str) -> str:
    return f"[{_sender(ticket)}] {what}: {ticket.subject} ({ticket.number})"


def notify_created(ticket: Ticket) -> None:
    if ticket.kind != Kind.CUSTOMER:
        return
    _send(requester_emails(ticket), _subject(ticket, "We received your request"),
          f"Thanks for contacting {ticket.store.name}. Follow your ticket and reply here:\n\n"
          f"{ticket_link(ticket)}\n\nKeep this link private: it opens your ticket.")
    dashboard = absolute_url(reverse("dashboard:support_ticket",
                                     args=[ticket.store.slug, ticket.pk]))
    _send(_members_with(ticket, Perm.TICKETS_REPLY), f"New support ticket {ticket.number}: "
          f"{ticket.subject}", f"{ticket.customer_email} opened a ticket.\n\n{dashboard}")


def notify_support_reply(ticket: Ticket, message: Message) -> None:
    _send(requester_emails(ticket), _subject(ticket, "New reply"),
          f"{message.author_label} replied to your ticket:\n\n{message.body}\n\n"
          f"Read and answer it here: {ticket_link(ticket)}")


def notify_requester_reply(ticket: Ticket, message: Message) -> None:
    if ticket.kind != Kind.CUSTOMER:
        return  # platform staff work from the console queue
    dashboard = absolute_url(reverse("dashboard:support_ticket",
                                     args=[ticket.store.slug, ticket.pk]))
    _send(_members_with(ticket, Perm.TICKETS_REPLY),
          f"Customer replied on {ticket.number}: {ticket.subject}",
          f"{ticket.customer_email} wrote:\n\n{message.body}\n\n{dashboard}")


def notify_closed(ticket: Ticket, *, reason: str, survey_url: str = "") -> None:
    body = f"{reason}\n\nYou can still read it, and reopen it if you need more help:\n" \
           f"{ticket_link(ticket)}"
    if survey_url:
        body += ("\n\nHow did we do? Rate this ticket from 1 to 5 (one click, no sign-in, "
                 f"the link works once):\n{survey_url}")
    _send(requester_emails(ticket), _subject(ticket, "Ticket closed"), body)


def notify_reminder(ticket: Ticket, *, closes_in_days: int) -> None:
    _send(requester_emails(ticket), _subject(ticket, "We are waiting for your reply"),
          f"We asked you for more information and have not heard back. Without a reply the "
          f"ticket closes automatically in {closes_in_days} days (you can reopen it later).\n\n"
          f"{ticket_link(ticket)}")
