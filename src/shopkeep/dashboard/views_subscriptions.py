"""Subscriptions: list, detail with renewals, cancel, test-mode renewal simulations."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.payments.flows import subscription_cancel
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.payments.gateways.sandbox import CARD_DECLINED, SandboxGateway
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm, role_has
from shopkeep.subscriptions.models import Subscription

# None keeps the card on file (the one that paid the first period).
SIMULATED_CARDS = {"renewal": None, "renewal_failure": CARD_DECLINED}


@store_view(Perm.ORDERS_VIEW)
def subscription_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = Subscription.objects.filter(store=request.store).select_related("customer", "product")
    if status in Subscription.Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/subscriptions/subscription_list.html", {
        "page": page, "status": status, "statuses": Subscription.Status.choices})


@store_view(Perm.ORDERS_VIEW)
def subscription_detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    store = request.store
    sub = get_for_store(Subscription.objects.select_related("customer", "product", "order"),
                        store, pk=subscription_id)
    can_manage = role_has(request.membership.role, Perm.ORDERS_REFUND)
    return render(request, "dashboard/subscriptions/subscription_detail.html", {
        "sub": sub, "renewals": sub.renewals.all()[:50], "can_manage": can_manage,
        "can_simulate": can_manage and store.test_mode and sub.payment_gateway == "sandbox"
        and sub.is_live})


@require_POST
@store_view(Perm.ORDERS_REFUND)
def subscription_cancel_view(request: HttpRequest, subscription_id: int) -> HttpResponse:
    store = request.store
    sub = get_for_store(Subscription, store, pk=subscription_id)
    at_period_end = request.POST.get("when") != "now"
    try:
        sub = subscription_cancel(store=store, actor=Actor.for_user(request.user),
                                  subscription=sub, at_period_end=at_period_end,
                                  reason=request.POST.get("reason", "")[:300])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Cancelled; access ends {sub.ends_at:%Y-%m-%d %H:%M} UTC."
                         if sub.ended_at is None else "Cancelled; access has ended.")
    return redirect("dashboard:subscription_detail", store_slug=store.slug,
                    subscription_id=sub.pk)


@require_POST
@store_view(Perm.ORDERS_REFUND)
def subscription_simulate(request: HttpRequest, subscription_id: int, what: str) -> HttpResponse:
    """Test mode only: the sandbox bills the next period now; its notice is delivered on
    commit, through the same path as a real provider's webhook."""
    store = request.store
    sub = get_for_store(Subscription, store, pk=subscription_id)
    if what not in SIMULATED_CARDS:
        raise Http404("unknown simulation")
    back = redirect("dashboard:subscription_detail", store_slug=store.slug,
                    subscription_id=sub.pk)
    if not (store.test_mode and sub.payment_gateway == "sandbox"):
        messages.error(request, "Simulations are for sandbox subscriptions in test mode.")
        return back
    card = SIMULATED_CARDS[what]
    try:
        SandboxGateway().simulate_renewal(subscription_id=sub.gateway_subscription_id,
                                          card_number=card)
    except GatewayError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The sandbox billed the next period"
                         + (" with a declining card." if card else "."))
    return back
