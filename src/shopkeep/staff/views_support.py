"""The platform support console: one queue across stores with SLA markers, the ticket page
with internal notes, assignment and status changes, CSAT, and the knowledge base."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from shopkeep.accounts.models import User
from shopkeep.core.errors import ServiceError
from shopkeep.core.refusals import refusal_response, too_large_response
from shopkeep.core.text import render_markdown
from shopkeep.staff.views import staff_required
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from shopkeep.support import guides, selectors, services, sla, staff_tools
from shopkeep.support.attachments import attachment_response
from shopkeep.support.forms import CloseForm, StaffReplyForm, StatusForm, too_large
from shopkeep.support.models import (
    CannedReply,
    Guide,
    Kind,
    Priority,
    Status,
    Ticket,
    statuses_for,
)
from shopkeep.support.redaction import notice_for
from shopkeep.support.services import Side
from shopkeep.support.surveys import csat


def _ticket(ticket_id: int) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("store", "assignee", "created_by"),
                             kind=Kind.PLATFORM, pk=ticket_id)


def _status_choices() -> list[tuple[str, str]]:
    return [(s, Status(s).label) for s in statuses_for(Kind.PLATFORM) if s != Status.CLOSED]


def _staff_users():
    return User.objects.filter(is_staff=True, is_active=True).order_by("email")


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    params, now = request.GET, timezone.now()
    filters = {"group": params.get("status", ""), "priority": params.get("priority", ""),
               "plan": params.get("plan", ""), "assignee": params.get("assignee", ""),
               "breached": params.get("breached") == "1", "query": params.get("q", "")[:100]}
    qs = selectors.staff_queue(**filters, user_id=request.user.pk, now=now)
    page = Paginator(qs, 50).get_page(params.get("page"))
    for ticket in page:
        ticket.marker = ticket.sla_state(now)
    groups = selectors.support_groups(Kind.PLATFORM)
    return render(request, "staff/support/queue.html", {
        "page": page, "filters": filters, "now": now,
        "groups": [(name, label) for name, (label, _) in groups.items()],
        "priorities": Priority.choices, "plans": Store.Plan.choices, "csat": csat()})


@staff_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket, now = _ticket(ticket_id), timezone.now()
    return render(request, "staff/support/ticket.html", {
        "ticket": ticket, "marker": ticket.sla_state(now),
        "elapsed": sla.elapsed(ticket, now), "targets": sla.targets(ticket.plan),
        "history": selectors.visible_messages(ticket, include_internal=True),
        "reply_form": _reply_form(request), "close_form": CloseForm(),
        "priorities": Priority.choices, "canned": CannedReply.objects.only("pk", "title"),
        "status_form": StatusForm(statuses=_status_choices(), initial={"status": ticket.status}),
        "staff_users": _staff_users(), "surveys": ticket.surveys.filter(answered_at__isnull=False),
        **_billing_context(ticket)})


def _billing_context(ticket: Ticket) -> dict:
    """Next to a Billing & Plans ticket: the store's plan, subscription and invoices."""
    if ticket.category != "billing":
        return {}
    from shopkeep.platform.models import PlatformInvoice
    from shopkeep.stores.limits import plan_of
    from shopkeep.stores.models import StoreBilling

    return {"billing": {
        "plan": plan_of(ticket.store),
        "account": StoreBilling.objects.filter(store=ticket.store).first(),
        "invoices": list(PlatformInvoice.objects.filter(store=ticket.store)[:6])}}


def _reply_form(request: HttpRequest) -> StaffReplyForm:
    """``?canned=<id>`` fills the reply box with a canned reply to edit before sending (a
    GET that changes nothing; works without JavaScript)."""
    raw = request.GET.get("canned", "")
    chosen = CannedReply.objects.filter(pk=raw).first() if raw.isdigit() and len(raw) < 10 \
        else None
    return StaffReplyForm(initial={"message": chosen.body} if chosen else None)


def _back(ticket: Ticket) -> HttpResponse:
    return redirect("staff:ticket", ticket.pk)


@staff_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    if too_large(request):
        return too_large_response(request, "The upload is too large.")
    ticket = _ticket(ticket_id)
    form = StaffReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        invalid = ServiceError("invalid", " ".join(m for e in form.errors.values() for m in e))
        if answer := refusal_response(request, invalid):
            return answer
        messages.error(request, invalid.message)
        return _back(ticket)
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
        if notice := notice_for(message.redactions):
            messages.warning(request, notice)
        messages.success(request, "Internal note added." if message.internal
                         else "Reply sent; the store owner was e-mailed.")
    return _back(ticket)


@staff_required
@require_POST
def ticket_action(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket, actor = _ticket(ticket_id), Actor.for_user(request.user)
    action = request.POST.get("action", "")
    try:
        if action == "status":
            form = StatusForm(request.POST, statuses=_status_choices())
            if not form.is_valid():
                raise ServiceError("invalid_status", "Choose a valid status.")
            services.ticket_set_status(ticket=ticket, actor=actor,
                                       status=form.cleaned_data["status"])
        elif action == "priority":
            staff_tools.ticket_set_priority(ticket=ticket, actor=actor,
                                            priority=request.POST.get("priority", ""))
        elif action == "assign":
            raw = request.POST.get("assignee", "")
            assignee = _staff_users().filter(pk=raw).first() if raw.isdigit() else None
            if raw and assignee is None:
                raise ServiceError("invalid_assignee", "Choose a staff member.")
            services.ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
        elif action == "close":
            form = CloseForm(request.POST)
            services.ticket_close(ticket=ticket, actor=actor, side=Side.SUPPORT,
                                  message=form.cleaned_data["message"] if form.is_valid()
                                  else "")
        elif action == "reopen":
            services.ticket_reopen(ticket=ticket, actor=actor, side=Side.SUPPORT, message="")
        else:
            raise ServiceError("unknown_action", "Unknown action.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        done = {"priority": f"Priority set to {ticket_priority_label(request)}; the response "
                            "clock follows the plan, not the priority."}
        messages.success(request, done.get(action, "Saved."))
    return _back(ticket)


def ticket_priority_label(request: HttpRequest) -> str:
    value = request.POST.get("priority", "")
    return Priority(value).label if value in Priority.values else value


@staff_required
def ticket_attachment(request: HttpRequest, ticket_id: int,
                      attachment_id: int) -> FileResponse:
    ticket = _ticket(ticket_id)
    found = selectors.visible_attachment(ticket, attachment_id, include_internal=True)
    if found is None:
        raise Http404("No such attachment")
    return attachment_response(found)


class GuideForm(forms.Form):
    title = forms.CharField(max_length=120)
    problem = forms.CharField(max_length=300)
    solutions = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), max_length=10_000,
                                help_text="One step per line; Markdown allowed.")
    keywords = forms.CharField(max_length=300, required=False,
                               help_text="Extra words that should suggest this guide.")
    is_published = forms.BooleanField(required=False, initial=True, label="Published")


@staff_required
def guide_list(request: HttpRequest) -> HttpResponse:
    stats = guides.guide_stats()
    rows = [(g, stats.get(g.pk, {})) for g in Guide.objects.all()]
    return render(request, "staff/support/guides.html", {"rows": rows})


@staff_required
def guide_edit(request: HttpRequest, guide_id: int | None = None) -> HttpResponse:
    guide = get_object_or_404(Guide, pk=guide_id) if guide_id is not None else None
    initial = ({f: getattr(guide, f) for f in GuideForm.base_fields} if guide else None)
    form = GuideForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            guides.guide_save(actor=Actor.for_user(request.user), guide=guide,
                              **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Guide saved.")
            return redirect("staff:guides")
    preview = render_markdown(guide.solutions) if guide else ""
    return render(request, "staff/support/guide_edit.html", {
        "form": form, "guide": guide, "preview": preview},
        status=400 if form.errors else 200)
