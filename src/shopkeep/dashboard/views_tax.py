"""Settings > Tax: inclusive or exclusive prices, reverse charge, the rate table."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.views import form_error
from shopkeep.orders import tax
from shopkeep.orders.models import TaxRate
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm


class TaxSettingsForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Charge tax")
    prices_include_tax = forms.BooleanField(required=False, label="My prices include tax")
    home_country = forms.CharField(max_length=2, required=False, label="Store's country",
                                   help_text="Two letters, like DE.")
    reverse_charge = forms.BooleanField(required=False, label="Reverse charge for EU "
                                        "businesses with a valid VAT number from another "
                                        "country")


class TaxRateForm(forms.Form):
    country = forms.CharField(max_length=2)
    region = forms.CharField(max_length=64, required=False,
                             help_text="Optional: a state or province code, like CA.")
    rate = forms.DecimalField(max_digits=6, decimal_places=3, min_value=0, max_value=100,
                              label="Rate (%)")
    label = forms.CharField(max_length=40, initial="VAT")


@store_view(Perm.STORE_SETTINGS)
def tax_view(request: HttpRequest) -> HttpResponse:
    store = request.store
    current = tax.tax_settings(store)
    settings_form = TaxSettingsForm(initial={
        "enabled": current.enabled, "prices_include_tax": current.prices_include_tax,
        "home_country": current.home_country, "reverse_charge": current.reverse_charge})
    rate_form = TaxRateForm(request.POST or None)
    if request.method == "POST" and rate_form.is_valid():
        try:
            rate = tax.tax_rate_set(store=store, actor=Actor.for_user(request.user),
                                    **rate_form.cleaned_data)
        except ServiceError as exc:
            form_error(rate_form, exc)
        else:
            messages.success(request, f"{rate} saved; new orders use it.")
            return redirect("dashboard:tax", store_slug=store.slug)
    return render(request, "dashboard/tax.html", {
        "settings_form": settings_form, "rate_form": rate_form,
        "rates": TaxRate.objects.filter(store=store)},
        status=400 if rate_form.errors else 200)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def tax_settings_save(request: HttpRequest) -> HttpResponse:
    form = TaxSettingsForm(request.POST)
    if form.is_valid():
        try:
            tax.tax_settings_set(store=request.store, actor=Actor.for_user(request.user),
                                 **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Tax settings saved; new orders use them.")
    return redirect("dashboard:tax", store_slug=request.store.slug)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def tax_rate_delete(request: HttpRequest, rate_id: int) -> HttpResponse:
    rate = get_for_store(TaxRate, request.store, pk=rate_id)
    tax.tax_rate_delete(store=request.store, actor=Actor.for_user(request.user), rate=rate)
    messages.success(request, f"Rate {rate} deleted.")
    return redirect("dashboard:tax", store_slug=request.store.slug)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def tax_load_eu(request: HttpRequest) -> HttpResponse:
    count = tax.tax_rates_load_eu(store=request.store, actor=Actor.for_user(request.user))
    messages.success(request, f"{count} EU VAT standard rates added; edit any of them below.")
    return redirect("dashboard:tax", store_slug=request.store.slug)
