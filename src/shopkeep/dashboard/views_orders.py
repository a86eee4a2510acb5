"""Orders, refunds and test-mode payment simulations."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.money import from_minor
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders import selectors
from shopkeep.orders.models import Order
from shopkeep.orders.refunds import refund_request
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.payments.gateways.sandbox import SandboxGateway
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.stores.permissions import Perm, role_has


class RefundForm(forms.Form):
    amount = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2,
                                help_text="Leave empty to refund everything that is left.")
    reason = forms.CharField(required=False, max_length=500)


def _can_refund(request: HttpRequest) -> bool:
    return role_has(request.membership.role, Perm.ORDERS_REFUND)


@store_view(Perm.ORDERS_VIEW)
def order_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    status = params.get("status", "") if params.get("status") in Order.Status.values else ""
    test = {"test": True, "live": False}.get(params.get("mode", ""))
    q = params.get("q", "")[:100]
    qs = selectors.orders(store=request.store, status=status, search=q, test=test)
    page = Paginator(qs, 50).get_page(params.get("page"))
    return render(request, "dashboard/orders/order_list.html", {
        "page": page, "q": q, "status": status, "mode": params.get("mode", ""),
        "statuses": Order.Status.choices})


def _timeline(order: Order) -> list[dict]:
    rows = [{"at": a.created_at, "what": a.action, "who": a.actor_label, "details": a.details}
            for a in AuditLog.objects.filter(store=order.store, object_type="order",
                                             object_id=str(order.pk))]
    rows += [{"at": e.created_at, "what": f"event {e.event_type}", "who": "", "details": {}}
             for e in Event.objects.filter(store=order.store).filter(
                 Q(data__order_number=order.order_number))]
    return sorted(rows, key=lambda row: row["at"])


@store_view(Perm.ORDERS_VIEW)
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    store = request.store
    order = get_for_store(Order.objects.select_related("customer"), store, pk=order_id)
    can_refund = _can_refund(request)
    form = RefundForm(request.POST or None)
    if request.method == "POST":
        if not can_refund:
            raise PermissionDenied
        if form.is_valid():
            try:
                refund = refund_request(store=store, actor=Actor.for_user(request.user),
                                        order=order, amount=form.cleaned_data["amount"],
                                        reason=form.cleaned_data["reason"])
            except ServiceError as exc:
                form.add_error("amount" if exc.field == "amount" else None, exc.message)
            else:
                messages.success(request, f"Refund of {refund.amount} {order.currency} "
                                 "requested; the payment gateway confirms it in a moment.")
                return redirect("dashboard:order_detail", store_slug=store.slug,
                                order_id=order.pk)
    disputes = [(d, from_minor(d.amount_minor, d.currency)) for d in order.disputes.all()]
    return render(request, "dashboard/orders/order_detail.html", {
        "order": order, "items": order.items.all(), "refunds": order.refunds.all(),
        "disputes": disputes, "timeline": _timeline(order), "form": form,
        "can_refund": can_refund and order.refundable_amount > 0,
        "can_simulate": can_refund and store.test_mode and order.is_test_order
        and order.payment_gateway == "sandbox" and bool(order.gateway_payment_id),
        "open_dispute": order.disputes.exclude(status__in=Dispute.RESOLVED).first(),
        "subscriptions": order.subscriptions.all(),
    })


@require_POST
@store_view(Perm.ORDERS_REFUND)
def order_simulate(request: HttpRequest, order_id: int, what: str) -> HttpResponse:
    """Test mode only: ask the sandbox provider to raise or close a dispute."""
    store = request.store
    order = get_for_store(Order, store, pk=order_id)
    back = redirect("dashboard:order_detail", store_slug=store.slug, order_id=order.pk)
    if not (store.test_mode and order.is_test_order and order.payment_gateway == "sandbox"
            and order.gateway_payment_id):
        messages.error(request, "Simulations are for sandbox orders of a store in test mode.")
        return back
    sandbox = SandboxGateway()
    try:
        if what == "dispute":
            sandbox.simulate_dispute(payment_id=order.gateway_payment_id)
            messages.success(request, "The sandbox opened a dispute for this payment.")
        elif what in Dispute.RESOLVED:
            dispute = order.disputes.exclude(status__in=Dispute.RESOLVED).first()
            if dispute is None:
                messages.error(request, "This order has no open dispute.")
                return back
            sandbox.simulate_dispute_close(payment_id=order.gateway_payment_id,
                                           dispute_id=dispute.gateway_dispute_id, status=what,
                                           amount_minor=dispute.amount_minor,
                                           reason=dispute.reason)
            messages.success(request, f"The sandbox closed the dispute as {what}.")
        else:
            messages.error(request, "Unknown simulation.")
    except GatewayError as exc:
        messages.error(request, exc.message)
    return back


@store_view(Perm.ORDERS_VIEW)
def dispute_list(request: HttpRequest) -> HttpResponse:
    qs = Dispute.objects.filter(store=request.store).select_related("order")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(d, from_minor(d.amount_minor, d.currency)) for d in page]
    return render(request, "dashboard/orders/dispute_list.html", {"page": page, "rows": rows})
