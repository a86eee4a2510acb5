from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from shopkeep.core.tenancy import get_for_store
from shopkeep.customers import selectors
from shopkeep.customers.identity import identity_label
from shopkeep.customers.models import Customer
from shopkeep.customers.payloads import country_name
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.exports import EXPORTS, export_rows
from shopkeep.stores.permissions import Perm, role_has


@store_view(Perm.CUSTOMERS_VIEW)
def customer_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:100]
    page = Paginator(selectors.customers(store=request.store, search=search), 50).get_page(
        request.GET.get("page"))
    return render(request, "dashboard/customers/customer_list.html", {
        "page": page, "q": search, "player_label": identity_label(request.store.game)})


@store_view(Perm.CUSTOMERS_VIEW)
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_for_store(Customer.objects.select_related("referred_by"), request.store,
                             pk=customer_id)
    return render(request, "dashboard/customers/customer_detail.html", {
        "customer": customer, "country_name": country_name(customer.country),
        "player_label": identity_label(request.store.game),
        "referrals": customer.referrals.count()})


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, e.label) for k, e in EXPORTS.items()])
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise forms.ValidationError("The end date is before the start date.")
            if (data["end"] - data["start"]).days > 3660:
                raise forms.ValidationError("Export at most ten years at a time.")
        return data


@store_view(Perm.STORE_VIEW)
def exports(request: HttpRequest) -> HttpResponse:
    """Pick what and which days (store time zone); the CSV streams as it is read."""
    store = request.store
    today = timezone.localdate(timezone=ZoneInfo(store.time_zone))
    form = ExportForm(request.GET or None,
                      initial={"start": today - timedelta(days=29), "end": today})
    if request.GET and form.is_valid():
        kind = form.cleaned_data["kind"]
        if not role_has(request.membership.role, EXPORTS[kind].perm):
            raise PermissionDenied
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        response = StreamingHttpResponse(
            export_rows(store=store, kind=kind, start=start, end=end),
            content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (f'attachment; filename="{store.slug}-{kind}-'
                                           f'{start:%Y%m%d}-{end:%Y%m%d}.csv"')
        response["Cache-Control"] = "private, no-store"
        return response
    return render(request, "dashboard/exports.html", {"form": form},
                  status=400 if request.GET else 200)
