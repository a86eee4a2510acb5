"""Settings > E-mails: the store's mail settings, each member's own notices, and a preview of
every e-mail the store sends (rendered from the same templates the worker uses)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.dashboard.access import store_view
from shopkeep.notifications import services
from shopkeep.notifications.kinds import KINDS
from shopkeep.notifications.previews import preview_context
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm, role_has


class StoreEmailForm(forms.Form):
    buyer_receipts = forms.BooleanField(required=False, label="Send buyers their receipts, "
                                        "refund and subscription e-mails")
    reply_to = forms.EmailField(required=False, label="Reply-to address",
                                help_text="Where buyers' replies go; empty: no reply-to.")
    abandoned_basket = forms.BooleanField(
        required=False, label="Send one reminder for an order left unpaid",
        help_text="Only to buyers who tick the box at checkout; never for a paid order; "
        "with an unsubscribe link.")
    abandoned_delay_hours = forms.IntegerField(min_value=1, max_value=72, initial=4,
                                               required=False,
                                               label="Hours before the reminder")


class MyNoticesForm(forms.Form):
    new_sale = forms.BooleanField(required=False, label="New sale")
    delivery_failed = forms.BooleanField(required=False, label="Delivery failed")
    dispute_opened = forms.BooleanField(required=False, label="Dispute opened")
    daily_summary = forms.BooleanField(required=False, label="Daily summary (after midnight "
                                       "in the store's time zone, for the day before)")


@store_view(Perm.STORE_VIEW)
def email_settings(request: HttpRequest) -> HttpResponse:
    store = request.store
    current = services.email_settings(store)
    can_manage = role_has(request.membership.role, Perm.STORE_SETTINGS)
    mine = services.member_preference(request.membership)
    return render(request, "dashboard/emails.html", {
        "store_form": StoreEmailForm(initial={
            "buyer_receipts": current.buyer_receipts, "reply_to": current.reply_to,
            "abandoned_basket": current.abandoned_basket,
            "abandoned_delay_hours": current.abandoned_delay_hours}),
        "my_form": MyNoticesForm(initial={f: getattr(mine, f) for f in MyNoticesForm.base_fields}),
        "kinds": list(KINDS.values()), "can_manage": can_manage,
        "outbox": services.recent_outbox(store=store)})


@require_POST
@store_view(Perm.STORE_SETTINGS)
def email_settings_save(request: HttpRequest) -> HttpResponse:
    form = StoreEmailForm(request.POST)
    if form.is_valid():
        services.store_email_settings_set(store=request.store,
                                          actor=Actor.for_user(request.user),
                                          **form.cleaned_data)
        messages.success(request, "E-mail settings saved; they apply to mail sent from now on.")
    else:
        messages.error(request, "Enter a valid reply-to address and a reminder delay of 1 to "
                       "72 hours.")
    return redirect("dashboard:emails", store_slug=request.store.slug)


@require_POST
@store_view(Perm.STORE_VIEW)
def email_my_notices(request: HttpRequest) -> HttpResponse:
    form = MyNoticesForm(request.POST)
    form.is_valid()  # booleans: always valid
    services.member_preference_set(membership=request.membership,
                                   actor=Actor.for_user(request.user), **form.cleaned_data)
    messages.success(request, "Your notices are saved.")
    return redirect("dashboard:emails", store_slug=request.store.slug)


@store_view(Perm.STORE_VIEW)
def email_preview(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in KINDS or fmt not in ("html", "txt"):
        raise Http404("No such e-mail")
    subject, text, html = services.email_render(store=request.store, kind=KINDS[kind],
                                                context=preview_context(request.store, kind))
    if fmt == "txt":
        response = HttpResponse(f"Subject: {subject}\n\n{text}",
                                content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(html)
        # Mail uses inline styles (mail clients ignore style sheets); this page is only our
        # own template over sample data, shown sandboxed: no scripts, nothing else loads.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
            "sandbox; frame-ancestors 'self'")
    response["X-Content-Type-Options"] = "nosniff"
    return response
