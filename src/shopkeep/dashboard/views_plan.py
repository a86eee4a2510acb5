"""Settings > Plan: the store's platform plan, its limits and usage, plans to choose,
invoices, the billing e-mail. Writes go through platform/billing.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.catalog.models import Product
from shopkeep.core.errors import ServiceError
from shopkeep.core.middleware import DEFAULT_CSP
from shopkeep.dashboard.access import store_view
from shopkeep.delivery.models import GameServer
from shopkeep.payments.selectors import STRIPE_CHECKOUT_ORIGIN
from shopkeep.platform import billing
from shopkeep.platform.models import PlatformInvoice
from shopkeep.stores.audit import Actor
from shopkeep.stores.limits import billing_on, downgrade_problems, plan_of, plan_usage
from shopkeep.stores.models import BillingPlan, Membership, Store
from shopkeep.stores.permissions import Perm
from shopkeep.webhooks.models import WebhookEndpoint

PORTAL_ORIGIN = "https://billing.stripe.com"


class BillingEmailForm(forms.Form):
    billing_email = forms.EmailField(max_length=254, required=False,
                                     label="Billing e-mail",
                                     help_text="Receipts and payment problems go here; empty: "
                                               "the store's owners.")


def usage_counts(store: Store) -> dict[str, int]:
    return {"servers": GameServer.objects.alive().filter(store=store).count(),
            "products": Product.objects.filter(store=store, deleted_at__isnull=True).count(),
            "members": Membership.objects.filter(store=store).count(),
            "webhook_endpoints": WebhookEndpoint.objects.filter(store=store).count()}


@store_view(Perm.OWNERS_MANAGE)
def plan(request: HttpRequest) -> HttpResponse:
    store = request.store
    if request.GET.get("checkout") == "done":
        messages.success(request, "Thanks! Stripe confirms the payment in a moment; this "
                         "page shows the new plan as soon as it does.")
    elif request.GET.get("checkout") == "cancelled":
        messages.info(request, "Checkout was cancelled; nothing was charged.")
    current = plan_of(store)
    counts = usage_counts(store)
    plans = list(BillingPlan.objects.filter(is_public=True))
    for option in plans:
        option.problems = downgrade_problems(counts, option)
    account = billing.billing_of(store)
    response = render(request, "dashboard/plan.html", {
        "tab": "plan", "enabled": billing_on(), "current": current, "account": account,
        "usage": plan_usage(counts, current), "plans": plans,
        "invoices": PlatformInvoice.objects.filter(store=store)[:24],
        "email_form": BillingEmailForm(initial={"billing_email": account.billing_email}),
    })
    # Browsers hold the redirect after a form POST to this page's form-action: Checkout
    # and the customer portal are Stripe's origins, and only those are added.
    response["Content-Security-Policy"] = DEFAULT_CSP.replace(
        "form-action 'self'", f"form-action 'self' {STRIPE_CHECKOUT_ORIGIN} {PORTAL_ORIGIN}")
    return response


def _done(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard:plan", store_slug=request.store.slug)


@store_view(Perm.OWNERS_MANAGE)
@require_POST
def plan_checkout(request: HttpRequest) -> HttpResponse:
    chosen = BillingPlan.objects.filter(key=request.POST.get("plan", "")[:40],
                                        is_public=True).first()
    if chosen is None:
        messages.error(request, "Choose one of the plans.")
        return _done(request)
    try:
        url = billing.checkout_start(store=request.store, actor=Actor.for_user(request.user),
                                     plan=chosen, interval=request.POST.get("interval", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _done(request)
    return redirect(url)


@store_view(Perm.OWNERS_MANAGE)
@require_POST
def plan_portal(request: HttpRequest) -> HttpResponse:
    try:
        url = billing.portal_url(store=request.store, actor=Actor.for_user(request.user))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _done(request)
    return redirect(url)


@store_view(Perm.OWNERS_MANAGE)
@require_POST
def plan_cancel(request: HttpRequest) -> HttpResponse:
    cancel = request.POST.get("cancel") != "resume"
    try:
        account = billing.cancel_at_period_end(store=request.store,
                                               actor=Actor.for_user(request.user),
                                               cancel=cancel)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        end = account.current_period_end
        when = f" on {end:%Y-%m-%d}" if end else " at the end of the paid period"
        messages.success(request, f"The subscription ends{when}; nothing is deleted and the "
                         "free plan's limits apply after that." if cancel else
                         "The subscription continues; nothing changes.")
    return _done(request)


@store_view(Perm.OWNERS_MANAGE)
@require_POST
def plan_email(request: HttpRequest) -> HttpResponse:
    form = BillingEmailForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid e-mail address.")
        return _done(request)
    billing.billing_email_set(store=request.store, actor=Actor.for_user(request.user),
                              email=form.cleaned_data["billing_email"])
    messages.success(request, "Billing e-mail saved; receipts and payment problems go there.")
    return _done(request)
