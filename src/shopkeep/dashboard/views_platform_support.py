"""Platform Support: the store's own tickets to the platform team, and "Quick help first"."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.refusals import refusal_response, too_large_response
from shopkeep.core.tenancy import get_for_store
from shopkeep.core.text import render_markdown
from shopkeep.dashboard.access import store_view
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm
from shopkeep.support import guides, selectors, services
from shopkeep.support.attachments import attachment_response
from shopkeep.support.forms import (
    GUIDED_PROMPTS,
    CloseForm,
    PlatformTicketForm,
    ReopenForm,
    ReplyForm,
    describe_client,
    too_large,
)
from shopkeep.support.models import Guide, Kind, Ticket
from shopkeep.support.redaction import notice_for
from shopkeep.support.services import Side

PAGE_SIZE = 50


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    return get_for_store(Ticket.objects.filter(kind=Kind.PLATFORM).select_related("store"),
                         request.store, pk=ticket_id)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def refuse_large(request: HttpRequest) -> HttpResponse | None:
    if too_large(request):
        return too_large_response(request, "The upload is too large: at most 5 files of 10 MB "
                                           "each.")
    return None


def tell_redactions(request: HttpRequest, kinds: list[str]) -> None:
    notice = notice_for(kinds)
    if notice:
        messages.warning(request, notice)


@store_view(Perm.PLATFORM_SUPPORT)
def ticket_list(request: HttpRequest) -> HttpResponse:
    group, query = request.GET.get("status", ""), request.GET.get("q", "")[:100]
    groups = selectors.requester_groups(Kind.PLATFORM)
    qs = selectors.store_ticket_list(store=request.store, kind=Kind.PLATFORM, group=group,
                                     query=query, perspective="requester")
    stats = selectors.stats(selectors.store_tickets(store=request.store, kind=Kind.PLATFORM),
                            {**groups, "closed": ("Resolved", groups["closed"][1])})
    return render(request, "dashboard/platform_support/list.html", {
        "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
        "groups": [(name, label) for name, (label, _) in groups.items()],
        "group": group if group in groups else "", "q": query, "stats": stats})


@store_view(Perm.PLATFORM_SUPPORT)
def ticket_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (refused := refuse_large(request)):
        return refused
    form = PlatformTicketForm(request.POST or None, request.FILES or None,
                              initial={"subject": request.GET.get("subject", "")[:200]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.platform_ticket_create(
                store=request.store, actor=_actor(request), subject=data["subject"],
                category=data["category"], priority=data["priority"],
                description=data["description"], urgent_confirmed=data["urgent_confirmed"],
                environment=describe_client(request.headers.get("User-Agent", "")),
                files=data["attachments"])
        except ServiceError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
        else:
            tell_redactions(request, ticket.messages.first().redactions)
            messages.success(request, f"Ticket {ticket.number} was sent to the platform team.")
            return redirect("dashboard:platform_ticket", request.store.slug, ticket.pk)
    subject = form["subject"].value() or ""
    return render(request, "dashboard/platform_support/new.html", {
        "form": form, "prompts": GUIDED_PROMPTS, "suggestions": guides.suggest(subject)},
        status=400 if form.errors else 200)


@store_view(Perm.PLATFORM_SUPPORT)
def suggest(request: HttpRequest) -> HttpResponse:
    """The htmx partial under the subject field: guides matching what was typed so far."""
    return render(request, "dashboard/platform_support/_suggestions.html", {
        "suggestions": guides.suggest(request.GET.get("subject", "")[:200])})


@store_view(Perm.PLATFORM_SUPPORT)
def guide_detail(request: HttpRequest, guide_slug: str) -> HttpResponse:
    guide = get_object_or_404(Guide, slug=guide_slug, is_published=True)
    guides.guide_opened(guide=guide, store=request.store, actor=_actor(request))
    return render(request, "dashboard/platform_support/guide.html", {
        "guide": guide, "solutions_html": render_markdown(guide.solutions)})


@store_view(Perm.PLATFORM_SUPPORT)
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    return render(request, "dashboard/platform_support/detail.html", {
        "ticket": ticket,
        "history": selectors.visible_messages(ticket, include_internal=False),
        "reply_form": ReplyForm(), "close_form": CloseForm(), "reopen_form": ReopenForm()})


def _act(request: HttpRequest, ticket_id: int, action) -> HttpResponse:
    if refused := refuse_large(request):
        return refused
    ticket = _ticket(request, ticket_id)
    try:
        result = action(ticket)
    except ServiceError as exc:
        if answer := refusal_response(request, exc):
            return answer
        messages.error(request, exc.message)
    else:
        if result is not None:
            tell_redactions(request, getattr(result, "redactions", []))
    return redirect("dashboard:platform_ticket", request.store.slug, ticket.pk)


@store_view(Perm.PLATFORM_SUPPORT)
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    def reply(ticket: Ticket):
        form = ReplyForm(request.POST, request.FILES)
        if not form.is_valid():
            raise ServiceError("invalid", " ".join(m for e in form.errors.values() for m in e))
        message = services.ticket_reply(ticket=ticket, actor=_actor(request),
                                        side=Side.REQUESTER, body=form.cleaned_data["message"],
                                        files=form.cleaned_data["attachments"])
        messages.success(request, "Reply sent.")
        return message

    return _act(request, ticket_id, reply)


@store_view(Perm.PLATFORM_SUPPORT)
@require_POST
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    def close(ticket: Ticket):
        form = CloseForm(request.POST)
        if not form.is_valid():
            raise ServiceError("invalid", "The final message is too long.")
        services.ticket_close(ticket=ticket, actor=_actor(request), side=Side.REQUESTER,
                              message=form.cleaned_data["message"])
        messages.success(request, "Ticket closed. We e-mailed you a short survey.")

    return _act(request, ticket_id, close)


@store_view(Perm.PLATFORM_SUPPORT)
@require_POST
def ticket_reopen(request: HttpRequest, ticket_id: int) -> HttpResponse:
    def reopen(ticket: Ticket):
        form = ReopenForm(request.POST, request.FILES)
        if not form.is_valid():
            raise ServiceError("invalid", "Say what you need to reopen the ticket.")
        services.ticket_reopen(ticket=ticket, actor=_actor(request), side=Side.REQUESTER,
                               message=form.cleaned_data["message"],
                               files=form.cleaned_data["attachments"])
        messages.success(request, "Ticket reopened.")

    return _act(request, ticket_id, reopen)


@store_view(Perm.PLATFORM_SUPPORT)
@require_POST
def ticket_delete(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    number = ticket.number
    try:
        services.ticket_delete(ticket=ticket, actor=_actor(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:platform_ticket", request.store.slug, ticket.pk)
    messages.success(request, f"Ticket {number} and everything in it were deleted.")
    return redirect("dashboard:platform_support", request.store.slug)


@store_view(Perm.PLATFORM_SUPPORT)
def attachment(request: HttpRequest, ticket_id: int, attachment_id: int) -> FileResponse:
    ticket = _ticket(request, ticket_id)
    found = selectors.visible_attachment(ticket, attachment_id, include_internal=False)
    if found is None:
        raise Http404("No such attachment")
    return attachment_response(found)
