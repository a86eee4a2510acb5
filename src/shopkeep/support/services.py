"""The ticket state machine. Every write: keyword-only, one transaction, an audit row, the
customer-ticket event where seed 002 names one, and its e-mail queued in the same commit.

Who may act is checked here, not only in views: the *requester* side of a platform ticket
is a store member with ``platform_support``; its *support* side is platform staff. On a
customer ticket the requester is the customer (the caller proves it with the ticket's access
key or the customer's session) and the support side is a store member with
``tickets.reply``.

    open ─ support reply ─> waiting for requester ─ requester reply ─> waiting for support
      │                         (7 days: auto-close)                          │
      └── support: in progress / any open status ───── close ─> closed ─ reopen ─> open
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from shopkeep.accounts.models import User
from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.core.ids import random_string
from shopkeep.core.text import clean_line, render_markdown
from shopkeep.customers.models import Customer
from shopkeep.customers.services import clean_email
from shopkeep.events.services import emit
from shopkeep.orders.models import Order
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm
from shopkeep.support import notifications, sla
from shopkeep.support.attachments import check_attachments
from shopkeep.support.models import (
    CUSTOMER_CATEGORIES,
    PLATFORM_CATEGORIES,
    Attachment,
    Author,
    GuideView,
    Kind,
    Message,
    Priority,
    Status,
    Ticket,
    statuses_for,
)
from shopkeep.support.payloads import ticket_created_data, ticket_reply_data
from shopkeep.support.redaction import Redacted, redact
from shopkeep.support.staff_tools import notify_staff_new_ticket
from shopkeep.support.surveys import survey_create

MAX_BODY = 20_000
GUIDE_FOLLOW_WINDOW = timedelta(hours=24)


class Side(StrEnum):
    REQUESTER = "requester"
    SUPPORT = "support"


def authorize(*, store: Store, kind: str, actor: Actor, side: Side) -> None:
    if kind == Kind.PLATFORM:
        if side == Side.REQUESTER:
            require_permission(store, actor, Perm.PLATFORM_SUPPORT)
        elif actor.token is not None or (actor.user is not None and not actor.user.is_staff):
            raise PermissionDenied("Only the platform team answers platform tickets.")
    elif side == Side.SUPPORT:
        require_permission(store, actor, Perm.TICKETS_REPLY)
    elif actor.user is not None or actor.token is not None:
        # Store members and tokens answer customers; they never write as one.
        raise PermissionDenied("Only the customer writes on their side of the ticket.")


def _clean_body(text: str, *, required: bool) -> Redacted:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127
                                                          and not 128 <= ord(ch) < 160))
    text = text.strip()
    if required and not text:
        raise ServiceError("message_required", "Write a message.", field="message")
    if len(text) > MAX_BODY:
        raise ServiceError("message_too_long", f"Messages can be at most {MAX_BODY} "
                           "characters.", field="message")
    return redact(text)


def _clean_subject(subject: str) -> Redacted:
    value = clean_line(subject, max_length=500)
    if not value:
        raise ServiceError("subject_required", "Give the ticket a subject.", field="subject")
    if len(value) > 200:
        raise ServiceError("subject_too_long", "Subjects can be at most 200 characters.",
                           field="subject")
    return redact(value)


def _label(actor: Actor, fallback: str) -> str:
    if actor.token is not None:
        return f"API ({actor.token.name})"
    if actor.user is not None:
        return actor.user.get_full_name()
    return fallback


def _add_message(ticket: Ticket, *, author: str, actor: Actor, body: Redacted, now: datetime,
                 files: Sequence[UploadedFile] = (), internal: bool = False,
                 label: str = "", extra_redactions: Sequence[str] = ()) -> Message:
    checked = check_attachments(list(files))
    kinds = list(dict.fromkeys([*extra_redactions, *body.kinds]))
    message = Message.objects.create(
        store=ticket.store, ticket=ticket, author=author, author_user=actor.user,
        author_label=label or _label(actor, "Support"), body=body.text,
        body_html=render_markdown(body.text), internal=internal, redactions=kinds,
        created_at=now)
    for item in checked:
        Attachment.objects.create(store=ticket.store, ticket=ticket, message=message,
                                  file=item.upload, filename=item.filename,
                                  content_type=item.content_type, size=item.size,
                                  created_at=now)
    if not internal:
        ticket.last_response_at = now
        ticket.last_response_by = message.author_label
        ticket.updated_at = now
    return message


def _locked(ticket: Ticket) -> Ticket:
    """Re-read the row under a lock: two replies or a reply and the auto-close job
    serialise here, and each sees the other's status."""
    return Ticket.objects.select_for_update(of=("self",)) \
        .select_related("store", "order", "created_by") \
        .get(pk=ticket.pk)


def _check_choice(value: str, choices: dict | list, field: str) -> str:
    if value not in choices:
        raise ServiceError(f"invalid_{field}", f"Choose a valid {field}.", field=field)
    return value


@transaction.atomic
def platform_ticket_create(*, store: Store, actor: Actor, subject: str, category: str,
                           priority: str, description: str, urgent_confirmed: bool = False,
                           environment: dict | None = None,
                           files: Sequence[UploadedFile] = ()) -> Ticket:
    """A store member asks the platform team. Store, plan, browser and OS are recorded."""
    authorize(store=store, kind=Kind.PLATFORM, actor=actor, side=Side.REQUESTER)
    _check_choice(category, PLATFORM_CATEGORIES, "category")
    _check_choice(priority, Priority.values, "priority")
    if priority == Priority.URGENT and not urgent_confirmed:
        raise ServiceError("urgent_unconfirmed", "Urgent is for a store that is down or cannot "
                           "take payments: confirm that this is the case, or choose High.",
                           field="priority")
    title, body = _clean_subject(subject), _clean_body(description, required=True)
    now = timezone.now()
    ticket = Ticket.objects.create(
        kind=Kind.PLATFORM, store=store, subject=title.text, category=category,
        priority=priority, created_by=actor.user, plan=store.plan,
        environment={k: str(v)[:200] for k, v in (environment or {}).items()},
        created_at=now, updated_at=now)
    message = _add_message(ticket, author=Author.REQUESTER, actor=actor, body=body, now=now,
                           files=files, extra_redactions=title.kinds)
    sla.resume(ticket, now)
    ticket.save()
    if actor.user is not None:
        GuideView.objects.filter(store=store, user=actor.user, ticket__isnull=True,
                                 opened_at__gte=now - GUIDE_FOLLOW_WINDOW).update(ticket=ticket)
    audit_record(store=store, actor=actor, action="ticket.created", obj=ticket,
                 details={"kind": ticket.kind, "priority": priority, "message_id": message.pk})
    notify_staff_new_ticket(ticket)
    return ticket


def _order_for(store: Store, order_number: str, email: str,
               customer: Customer | None) -> Order | None:
    number = clean_line(order_number, max_length=20).upper()
    if not number:
        return None
    orders = Order.objects.filter(store=store, order_number=number)
    order = (orders.filter(customer=customer).first() if customer is not None
             else orders.filter(customer_email__iexact=email).first())
    if order is None:
        raise ServiceError("unknown_order", "None of your orders has that number.",
                           field="order_number")
    return order


@transaction.atomic
def customer_ticket_create(*, store: Store, actor: Actor, email: str, name: str, subject: str,
                           message: str, category: str, priority: str = Priority.NORMAL,
                           order_number: str = "", customer: Customer | None = None,
                           files: Sequence[UploadedFile] = ()) -> Ticket:
    """A customer asks the store; ``ticket.created``. ``customer`` is the signed-in customer;
    a guest's ticket is tied to the address, which receives the follow link."""
    authorize(store=store, kind=Kind.CUSTOMER, actor=actor, side=Side.REQUESTER)
    if store.status != Store.Status.ACTIVE:
        raise ServiceError("store_closed", "This store is not taking tickets.")
    if customer is not None and customer.store_id != store.pk:
        raise PermissionDenied()
    email = customer.email if customer is not None else clean_email(email)
    name = clean_line(name, max_length=150) or (customer.name if customer else "")
    _check_choice(category, CUSTOMER_CATEGORIES, "category")
    _check_choice(priority, Priority.values, "priority")
    title, body = _clean_subject(subject), _clean_body(message, required=True)
    if customer is None:
        customer = Customer.objects.filter(store=store, email=email).first()
    order = _order_for(store, order_number, email, customer)
    now = timezone.now()
    ticket = Ticket.objects.create(
        kind=Kind.CUSTOMER, store=store, subject=title.text, category=category,
        priority=priority, customer=customer, customer_email=email, customer_name=name,
        order=order, access_key=random_string(32), created_at=now, updated_at=now)
    first = _add_message(ticket, author=Author.REQUESTER, actor=actor, body=body, now=now,
                         files=files, label=name or email, extra_redactions=title.kinds)
    ticket.save()
    emit(store=store, event_type="ticket.created", data=ticket_created_data(ticket, first))
    notifications.notify_created(ticket)
    audit_record(store=store, actor=actor, action="ticket.created", obj=ticket,
                 details={"kind": ticket.kind, "priority": priority, "message_id": first.pk})
    return ticket


@transaction.atomic
def ticket_reply(*, ticket: Ticket, actor: Actor, side: Side, body: str,
                 files: Sequence[UploadedFile] = (), internal: bool = False) -> Message:
    """A requester reply hands the ticket to support (an Open ticket stays Open: its first
    review is still pending); a public support reply hands it to the requester and mails
    them; an internal note changes nothing the requester can see."""
    authorize(store=ticket.store, kind=ticket.kind, actor=actor, side=side)
    ticket = _locked(ticket)
    if ticket.is_closed:
        raise Conflict("ticket_closed", "This ticket is closed. Reopen it to write again.")
    if internal and side != Side.SUPPORT:
        raise PermissionDenied("Only the support side writes internal notes.")
    text = _clean_body(body, required=not files)
    now = timezone.now()
    author = Author.REQUESTER if side == Side.REQUESTER else Author.SUPPORT
    label = (ticket.customer_name or ticket.customer_email) \
        if ticket.kind == Kind.CUSTOMER and side == Side.REQUESTER else ""
    message = _add_message(ticket, author=author, actor=actor, body=text, now=now, files=files,
                           internal=internal, label=label)
    if side == Side.REQUESTER:
        if ticket.status != Status.OPEN:
            ticket.status = ticket.waiting_for_support
        ticket.waiting_since = ticket.reminder_sent_at = None
        sla.resume(ticket, now)
    elif not internal:
        ticket.status = ticket.waiting_for_requester
        ticket.waiting_since, ticket.reminder_sent_at = now, None
        sla.responded(ticket, now)
    ticket.save()
    if not internal and side == Side.REQUESTER:
        if ticket.kind == Kind.CUSTOMER:
            emit(store=ticket.store, event_type="ticket.reply",
                 data=ticket_reply_data(ticket, message))
        notifications.notify_requester_reply(ticket, message)
    elif not internal:
        notifications.notify_support_reply(ticket, message)
    audit_record(store=ticket.store, actor=actor, action="ticket.replied", obj=ticket,
                 details={"message_id": message.pk, "side": str(side), "internal": internal,
                          "status": ticket.status})
    return message


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, actor: Actor, status: str) -> Ticket:
    """Support moves an open ticket between the open statuses; closing and reopening have
    their own services (they carry messages, surveys and e-mails)."""
    authorize(store=ticket.store, kind=ticket.kind, actor=actor, side=Side.SUPPORT)
    ticket = _locked(ticket)
    allowed = [s for s in statuses_for(ticket.kind) if s != Status.CLOSED]
    if status == Status.CLOSED:
        raise ServiceError("use_close", "Close the ticket with the close action.",
                           field="status")
    _check_choice(status, allowed, "status")
    if ticket.is_closed:
        raise Conflict("ticket_closed", "This ticket is closed. Reopen it first.")
    if status == ticket.status:
        return ticket
    previous, now = ticket.status, timezone.now()
    ticket.status, ticket.updated_at = status, now
    if status == ticket.waiting_for_requester:
        ticket.waiting_since, ticket.reminder_sent_at = now, None
        sla.pause(ticket, now)
    else:
        ticket.waiting_since = ticket.reminder_sent_at = None
        sla.resume(ticket, now)
    ticket.save()
    audit_record(store=ticket.store, actor=actor, action="ticket.status_changed", obj=ticket,
                 details={"from": previous, "to": status})
    return ticket


def _close(ticket: Ticket, *, actor: Actor, now: datetime, reason: str) -> None:
    ticket.status, ticket.closed_at, ticket.updated_at = Status.CLOSED, now, now
    ticket.waiting_since = ticket.reminder_sent_at = None
    sla.pause(ticket, now)
    ticket.save()
    survey_url = survey_create(ticket=ticket, now=now) if ticket.kind == Kind.PLATFORM else ""
    notifications.notify_closed(ticket, reason=reason, survey_url=survey_url)


@transaction.atomic
def ticket_close(*, ticket: Ticket, actor: Actor, side: Side, message: str = "",
                 files: Sequence[UploadedFile] = ()) -> Ticket:
    """Either side closes, with an optional final message; platform tickets get a
    satisfaction survey link by e-mail."""
    authorize(store=ticket.store, kind=ticket.kind, actor=actor, side=side)
    ticket = _locked(ticket)
    if ticket.is_closed:
        raise Conflict("ticket_closed", "This ticket is already closed.")
    text = _clean_body(message, required=False)
    now = timezone.now()
    final = None
    if text.text or files:
        final = _add_message(ticket, author=Author(str(side)), actor=actor, body=text, now=now,
                             files=files, label=(ticket.customer_name or ticket.customer_email)
                             if ticket.kind == Kind.CUSTOMER and side == Side.REQUESTER
                             else "")
    closer = "you" if side == Side.REQUESTER else (
        "the Shopkeep team" if ticket.kind == Kind.PLATFORM else ticket.store.name)
    _close(ticket, actor=actor, now=now, reason=f"Your ticket {ticket.number} was closed by "
           f"{closer}.")
    if final is not None and side == Side.REQUESTER and ticket.kind == Kind.CUSTOMER:
        emit(store=ticket.store, event_type="ticket.reply",
             data=ticket_reply_data(ticket, final))
    audit_record(store=ticket.store, actor=actor, action="ticket.closed", obj=ticket,
                 details={"side": str(side), "message_id": final.pk if final else None})
    return ticket


def ticket_close_system(*, ticket: Ticket, now: datetime, note: str) -> None:
    """The auto-close job's close, inside the job's transaction and lock."""
    actor = Actor.system("support auto-close")
    message = _add_message(ticket, author=Author.SYSTEM, actor=actor, body=Redacted(note, ()),
                           now=now, label="System")
    _close(ticket, actor=actor, now=now, reason=note)
    audit_record(store=ticket.store, actor=actor, action="ticket.auto_closed", obj=ticket,
                 details={"message_id": message.pk})


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor: Actor, side: Side, message: str,
                  files: Sequence[UploadedFile] = ()) -> Ticket:
    """A closed ticket returns to Open with a fresh response clock. The requester must say
    what they need (seed 000); support may reopen without a message."""
    authorize(store=ticket.store, kind=ticket.kind, actor=actor, side=side)
    ticket = _locked(ticket)
    if not ticket.is_closed:
        raise Conflict("ticket_not_closed", "This ticket is not closed.")
    text = _clean_body(message, required=side == Side.REQUESTER and not files)
    now = timezone.now()
    written = None
    if text.text or files:
        written = _add_message(ticket, author=Author(str(side)), actor=actor, body=text,
                               now=now, files=files,
                               label=(ticket.customer_name or ticket.customer_email)
                               if ticket.kind == Kind.CUSTOMER and side == Side.REQUESTER
                               else "")
    ticket.status, ticket.closed_at, ticket.updated_at = Status.OPEN, None, now
    sla.restart(ticket, now)
    ticket.save()
    if written is not None and side == Side.REQUESTER and ticket.kind == Kind.CUSTOMER:
        emit(store=ticket.store, event_type="ticket.reply",
             data=ticket_reply_data(ticket, written))
    audit_record(store=ticket.store, actor=actor, action="ticket.reopened", obj=ticket,
                 details={"side": str(side), "message_id": written.pk if written else None})
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: Actor, assignee: User | None) -> Ticket:
    """Platform staff take a platform ticket (or hand it to another staff member)."""
    if ticket.kind != Kind.PLATFORM:
        raise ServiceError("not_platform", "Only platform tickets are assigned.")
    authorize(store=ticket.store, kind=ticket.kind, actor=actor, side=Side.SUPPORT)
    if assignee is not None and not (assignee.is_staff and assignee.is_active):
        raise ServiceError("invalid_assignee", "Assign the ticket to a platform staff member.",
                           field="assignee")
    ticket = _locked(ticket)
    previous = ticket.assignee_id
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee"])
    audit_record(store=ticket.store, actor=actor, action="ticket.assigned", obj=ticket,
                 details={"from": previous, "to": assignee.pk if assignee else None})
    return ticket


@transaction.atomic
def ticket_delete(*, ticket: Ticket, actor: Actor) -> None:
    """The store's privacy request: messages, attachments and surveys are erased; the audit
    row written here (ids, dates and counts, no content) is the tombstone."""
    if ticket.kind == Kind.PLATFORM:
        if not (actor.user is not None and actor.user.is_staff):
            require_permission(ticket.store, actor, Perm.PLATFORM_SUPPORT)
    else:
        require_permission(ticket.store, actor, Perm.CUSTOMERS_MANAGE)
    ticket = _locked(ticket)
    files = [a.file.name for a in ticket.attachments.all()]
    tombstone = {"ticket_id": ticket.pk, "kind": ticket.kind, "status": ticket.status,
                 "created_at": ticket.created_at.isoformat(),
                 "messages": ticket.messages.count(), "attachments": len(files)}
    audit_record(store=ticket.store, actor=actor, action="ticket.deleted", obj=ticket,
                 details=tombstone)
    ticket.delete()

    def remove_files() -> None:
        from django.core.files.storage import default_storage

        for name in files:
            default_storage.delete(name)

    # Files go only once the rows are gone for good; a rollback keeps both.
    transaction.on_commit(remove_files)
