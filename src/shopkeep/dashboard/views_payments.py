"""Settings > Payments: connect Stripe and PayPal, see their webhooks and whether they work."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.views import form_error
from shopkeep.payments.paypal_connect import paypal_connect, paypal_disconnect, paypal_status
from shopkeep.payments.selectors import GATEWAY_LABELS, checkout_gateways
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


class PayPalConnectForm(forms.Form):
    mode = forms.ChoiceField(label="Mode", choices=[("live", "Live"), ("sandbox", "Sandbox")],
                             help_text="Sandbox credentials only work while the store is in "
                                       "test mode.")
    client_id = forms.CharField(label="Client ID", max_length=2000, strip=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off",
                                                              "spellcheck": "false"}),
                                help_text="PayPal Developer Dashboard > Apps & Credentials > "
                                          "your app.")
    client_secret = forms.CharField(label="Secret", max_length=2000, strip=False,
                                    widget=_secret_widget("Secret key 1"),
                                    help_text="Same page, under Secret key (Show).")


def _render(request: HttpRequest, *, form: StripeConnectForm | None = None,
            paypal_form: PayPalConnectForm | None = None) -> HttpResponse:
    store = request.store
    failed = bool((form and form.errors) or (paypal_form and paypal_form.errors))
    if paypal_form is None:
        paypal_form = PayPalConnectForm(initial={
            "mode": "sandbox" if store.test_mode else "live"})
    return render(request, "dashboard/payments.html", {
        "form": form or StripeConnectForm(), "paypal_form": paypal_form, "tab": "payments",
        "stripe": stripe_status(store=store, request=request),
        "paypal": paypal_status(store=store, request=request),
        "checkout_labels": [GATEWAY_LABELS[g] for g in checkout_gateways(store=store)]},
        status=400 if failed else 200)


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
    return _render(request, form=form)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def payments_paypal(request: HttpRequest) -> HttpResponse:
    form = PayPalConnectForm(request.POST)
    if form.is_valid():
        try:
            connection = paypal_connect(store=request.store, actor=Actor.for_user(request.user),
                                        request=request, **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            what = "created" if connection.webhook_created else "checked"
            messages.success(request, f"PayPal ({connection.mode}) connected; its webhook was "
                             f"{what} at PayPal. Buyers can now choose PayPal at checkout.")
            return redirect("dashboard:payments", store_slug=request.store.slug)
    return _render(request, paypal_form=form)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def payments_paypal_disconnect(request: HttpRequest) -> HttpResponse:
    try:
        paypal_disconnect(store=request.store, actor=Actor.for_user(request.user))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "PayPal disconnected; checkout no longer offers it.")
    return redirect("dashboard:payments", store_slug=request.store.slug)


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
