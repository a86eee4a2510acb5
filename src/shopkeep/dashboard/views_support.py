"""Support: the store answers its customers' tickets (members with ``tickets.reply``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.refusals import refusal_response
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.views_platform_support import refuse_large, tell_redactions
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm, role_has
from shopkeep.support import selectors, services
from shopkeep.support.attachments import attachment_response
from shopkeep.support.forms import CloseForm, StaffReplyForm, StatusForm
from shopkeep.support.models import Kind, Status, Ticket, statuses_for
from shopkeep.support.services import Side

PAGE_SIZE = 50


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    return get_for_store(Ticket.objects.filter(kind=Kind.CUSTOMER)
                         .select_related("store", "order", "customer"),
                         request.store, pk=ticket_id)


def _status_choices(ticket_kind: str) -> list[tuple[str, str]]:
    return [(s, Status(s).label) for s in statuses_for(ticket_kind) if s != Status.CLOSED]


@store_view(Perm.TICKETS_REPLY)
def ticket_list(request: HttpRequest) -> HttpResponse:
    group, query = request.GET.get("status", ""), request.GET.get("q", "")[:100]
    groups = selectors.support_groups(Kind.CUSTOMER)
    qs = selectors.store_ticket_list(store=request.store, kind=Kind.CUSTOMER, group=group,
                                     query=query)
    stats = selectors.stats(selectors.store_tickets(store=request.store, kind=Kind.CUSTOMER),
                            groups)
    return render(request, "dashboard/support/list.html", {
        "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
        "groups": [(name, label) for name, (label, _) in groups.items()],
        "group": group if group in groups else "", "q": query, "stats": stats})


@store_view(Perm.TICKETS_REPLY)
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    return render(request, "dashboard/support/detail.html", {
        "ticket": ticket,
        "history": selectors.visible_messages(ticket, include_internal=True),
        "reply_form": StaffReplyForm(), "close_form": CloseForm(),
        "status_form": StatusForm(statuses=_status_choices(ticket.kind),
                                  initial={"status": ticket.status}),
        "can_delete": role_has(request.membership.role, Perm.CUSTOMERS_MANAGE)})


def _done(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    return redirect("dashboard:support_ticket", request.store.slug, ticket.pk)


@store_view(Perm.TICKETS_REPLY)
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    if refused := refuse_large(request):
        return refused
    ticket = _ticket(request, ticket_id)
    form = StaffReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        invalid = ServiceError("invalid", " ".join(m for e in form.errors.values() for m in e))
        if answer := refusal_response(request, invalid):
            return answer
        messages.error(request, invalid.message)
        return _done(request, ticket)
    try:
        message = services.ticket_reply(
            ticket=ticket, actor=Actor.for_user(request.user), side=Side.SUPPORT,
            body=form.cleaned_data["message"], files=form.cleaned_data["attachments"],
            internal=form.cleaned_data["internal"])
    except ServiceError as exc:
        if answer := refusal_response(request, exc):
            return answer
        messages.error(request, exc.message)
    else:
        tell_redactions(request, message.redactions)
        messages.success(request, "Internal note added." if message.internal
                         else "Reply sent to the customer.")
    return _done(request, ticket)


@store_view(Perm.TICKETS_REPLY)
@require_POST
def ticket_status(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    actor = Actor.for_user(request.user)
    action = request.POST.get("action", "status")
    try:
        if action == "close":
            form = CloseForm(request.POST)
            message = form.cleaned_data["message"] if form.is_valid() else ""
            services.ticket_close(ticket=ticket, actor=actor, side=Side.SUPPORT,
                                  message=message)
            messages.success(request, "Ticket closed; the customer was told.")
        elif action == "reopen":
            services.ticket_reopen(ticket=ticket, actor=actor, side=Side.SUPPORT, message="")
            messages.success(request, "Ticket reopened.")
        else:
            form = StatusForm(request.POST, statuses=_status_choices(ticket.kind))
            if not form.is_valid():
                raise ServiceError("invalid_status", "Choose a valid status.")
            services.ticket_set_status(ticket=ticket, actor=actor,
                                       status=form.cleaned_data["status"])
            messages.success(request, "Status changed.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _done(request, ticket)


@store_view(Perm.CUSTOMERS_MANAGE)
@require_POST
def ticket_delete(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    number = ticket.number
    try:
        services.ticket_delete(ticket=ticket, actor=Actor.for_user(request.user))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _done(request, ticket)
    messages.success(request, f"Ticket {number} and everything in it were deleted.")
    return redirect("dashboard:support", request.store.slug)


@store_view(Perm.TICKETS_REPLY)
def attachment(request: HttpRequest, ticket_id: int, attachment_id: int) -> FileResponse:
    ticket = _ticket(request, ticket_id)
    found = selectors.visible_attachment(ticket, attachment_id, include_internal=True)
    if found is None:
        raise Http404("No such attachment")
    return attachment_response(found)
