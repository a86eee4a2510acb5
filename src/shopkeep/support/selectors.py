"""Ticket lists, filters and stats for each side of a ticket."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from shopkeep.customers.models import Customer
from shopkeep.stores.models import Store
from shopkeep.support.models import WAITING, Attachment, Kind, Message, Priority, Status, Ticket


# Filter name -> (label, statuses), as each side sees a ticket. The requester's groups are
# seed 000's: Open (awaiting a response), In Progress, Waiting for You, Closed/Resolved.
def requester_groups(kind: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    for_requester, for_support = WAITING[kind]
    return {
        "open": ("Open", (Status.OPEN, for_support)),
        "in_progress": ("In Progress", (Status.IN_PROGRESS,)),
        "waiting": ("Waiting for You", (for_requester,)),
        "closed": ("Closed", (Status.CLOSED,)),
    }


def support_groups(kind: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    for_requester, for_support = WAITING[kind]
    other = "Waiting for Store Owner" if kind == Kind.PLATFORM else "Waiting for Customer"
    return {
        "open": ("Open", (Status.OPEN,)),
        "in_progress": ("In Progress", (Status.IN_PROGRESS,)),
        "waiting": ("Waiting for You", (for_support,)),
        "waiting_requester": (other, (for_requester,)),
        "closed": ("Closed", (Status.CLOSED,)),
    }


def _search(qs: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    query = query.strip()[:100]
    if not query:
        return qs
    number = query.lstrip("#")
    condition = Q(subject__icontains=query)
    if number.isdigit() and len(number) < 12:
        condition |= Q(pk=int(number))
    return qs.filter(condition)


def _filtered(qs: QuerySet[Ticket], groups: dict, group: str, query: str) -> QuerySet[Ticket]:
    if group in groups:
        qs = qs.filter(status__in=groups[group][1])
    return _search(qs, query)


def stats(qs: QuerySet[Ticket], groups: dict) -> list[tuple[str, str, int]]:
    counts = qs.aggregate(**{name: Count("id", filter=Q(status__in=statuses))
                             for name, (_, statuses) in groups.items()})
    return [(name, label, counts[name]) for name, (label, _) in groups.items()]


def store_tickets(*, store: Store, kind: str) -> QuerySet[Ticket]:
    return Ticket.objects.filter(store=store, kind=kind).select_related("order", "customer")


def store_ticket_list(*, store: Store, kind: str, group: str = "", query: str = "",
                      perspective: str = "support") -> QuerySet[Ticket]:
    groups = requester_groups(kind) if perspective == "requester" else support_groups(kind)
    return _filtered(store_tickets(store=store, kind=kind), groups, group, query)


def customer_tickets(*, customer: Customer) -> QuerySet[Ticket]:
    return Ticket.objects.filter(store=customer.store, kind=Kind.CUSTOMER, customer=customer)


def visible_messages(ticket: Ticket, *, include_internal: bool) -> QuerySet[Message]:
    """The history as one side sees it: requesters never get internal notes, nor their
    attachments."""
    qs = ticket.messages.select_related("author_user").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    return qs if include_internal else qs.filter(internal=False)


def visible_attachment(ticket: Ticket, attachment_id: int, *,
                       include_internal: bool) -> Attachment | None:
    qs = Attachment.objects.filter(ticket=ticket, pk=attachment_id).select_related("message")
    if not include_internal:
        qs = qs.filter(message__internal=False)
    return qs.first()


def staff_queue(*, group: str = "", priority: str = "", plan: str = "", assignee: str = "",
                breached: bool = False, query: str = "", user_id: int | None = None,
                now=None) -> QuerySet[Ticket]:
    """All stores' platform tickets: Urgent first, then by due time (paused clocks last),
    then oldest first. Closed tickets only when asked for."""
    groups = support_groups(Kind.PLATFORM)
    qs = Ticket.objects.filter(kind=Kind.PLATFORM).select_related("store", "assignee")
    if group in groups:
        qs = qs.filter(status__in=groups[group][1])
    elif group != "all":
        qs = qs.exclude(status=Status.CLOSED)
    if priority in Priority.values:
        qs = qs.filter(priority=priority)
    if plan in Store.Plan.values:
        qs = qs.filter(plan=plan)
    if assignee == "me" and user_id is not None:
        qs = qs.filter(assignee_id=user_id)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    if breached and now is not None:
        qs = qs.filter(Q(breach_at__lte=now) | Q(sla_breached=True, breach_at__isnull=True))
    qs = _search(qs, query)
    urgent_first = Case(When(priority=Priority.URGENT, then=Value(0)), default=Value(1),
                        output_field=IntegerField())
    return qs.annotate(urgent_rank=urgent_first).order_by(
        "urgent_rank", Coalesce("due_at", "breach_at").asc(nulls_last=True), "created_at", "id")
