"""Staff console: store approvals for live payments and canned replies."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.staff.views import staff_required
from shopkeep.stores.approval import approval_required, store_approve, store_reject
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import LiveApproval, Store
from shopkeep.support.models import CannedReply
from shopkeep.support.staff_tools import canned_reply_delete, canned_reply_save


@staff_required
def approvals(request: HttpRequest) -> HttpResponse:
    pending = Store.objects.filter(live_approval=LiveApproval.PENDING).order_by(
        "live_approval_at")
    decided = Store.objects.filter(live_approval__in=[
        LiveApproval.APPROVED, LiveApproval.REJECTED]).order_by("-live_approval_at")[:30]
    return render(request, "staff/approvals.html", {
        "pending": pending, "decided": decided, "enabled": approval_required()})


@staff_required
@require_POST
def approval_decide(request: HttpRequest, store_id: int) -> HttpResponse:
    actor, decision = Actor.for_user(request.user), request.POST.get("decision", "")
    reason = request.POST.get("reason", "")
    try:
        if decision == "approve":
            store = store_approve(store_id=store_id, actor=actor, note=reason)
            messages.success(request, f"{store.name} is approved for live payments; its "
                             "owners were e-mailed.")
        elif decision == "reject":
            store = store_reject(store_id=store_id, actor=actor, reason=reason)
            messages.success(request, f"{store.name} was not approved; its owners were "
                             "e-mailed the reason and can ask again.")
        else:
            raise ServiceError("unknown_decision", "Approve or reject.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("staff:approvals")


class CannedForm(forms.Form):
    title = forms.CharField(max_length=120)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=10000,
                           label="Text")


@staff_required
@require_http_methods(["GET", "POST"])
def canned_list(request: HttpRequest, reply_id: int | None = None) -> HttpResponse:
    reply = None
    if reply_id is not None:
        reply = CannedReply.objects.filter(pk=reply_id).first()
        if reply is None:
            raise Http404
    initial = {"title": reply.title, "body": reply.body} if reply else None
    form = CannedForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = canned_reply_save(actor=Actor.for_user(request.user),
                                      reply_id=reply.pk if reply else None,
                                      **form.cleaned_data)
        except ServiceError as exc:
            form.add_error("title" if exc.field == "title" else None, exc.message)
        else:
            messages.success(request, f"Canned reply “{saved.title}” saved; pick it on any "
                             "ticket to fill the reply box.")
            return redirect("staff:canned")
    return render(request, "staff/canned.html", {"form": form, "reply": reply,
                                                 "replies": CannedReply.objects.all()})


@staff_required
@require_POST
def canned_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    try:
        canned_reply_delete(actor=Actor.for_user(request.user), reply_id=reply_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Canned reply deleted.")
    return redirect("staff:canned")
