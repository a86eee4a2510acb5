"""Settings > Payments: connect Stripe, see the webhook to configure and whether it works."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.views import form_error
from shopkeep.payments.stripe_connect import stripe_connect, stripe_disconnect, stripe_status
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm


def _secret_widget(placeholder: str) -> forms.PasswordInput:
    # render_value=False: a form shown again after an error never carries the key back out.
    return forms.PasswordInput(render_value=False, attrs={
        "autocomplete": "off", "spellcheck": "false", "placeholder": placeholder})


class StripeConnectForm(forms.Form):
    secret_key = forms.CharField(label="Secret key", max_length=2000, strip=False,
                                 widget=_secret_widget("sk_live_… or sk_test_…"),
                                 help_text="Stripe: Developers > API keys > Secret key.")
    webhook_secret = forms.CharField(label="Webhook signing secret", max_length=2000,
                                     strip=False, widget=_secret_widget("whsec_…"),
                                     help_text="Stripe: Developers > Webhooks > your endpoint "
                                               "> Signing secret.")


@store_view(Perm.STORE_SETTINGS)
def payments_settings(request: HttpRequest) -> HttpResponse:
    store = request.store
    form = StripeConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = stripe_connect(store=store, actor=Actor.for_user(request.user),
                                        request=request, **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Stripe account {connection.account_id} connected.")
            return redirect("dashboard:payments", store_slug=store.slug)
    return render(request, "dashboard/payments.html", {
        "form": form, "tab": "payments", "stripe": stripe_status(store=store, request=request)},
        status=400 if form.errors else 200)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def payments_disconnect(request: HttpRequest) -> HttpResponse:
    try:
        stripe_disconnect(store=request.store, actor=Actor.for_user(request.user))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Stripe disconnected.")
    return redirect("dashboard:payments", store_slug=request.store.slug)
