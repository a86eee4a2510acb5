from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shopkeep.core.tenancy import get_for_store
from shopkeep.customers import selectors
from shopkeep.customers.identity import identity_label
from shopkeep.customers.models import Customer
from shopkeep.customers.payloads import country_name
from shopkeep.dashboard.access import store_view
from shopkeep.stores.permissions import Perm


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
