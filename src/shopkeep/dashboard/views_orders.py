"""Orders, refunds, disputes and test-mode payment simulations."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.money import from_minor
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.delivery import selectors as delivery_selectors
from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders import selectors
from shopkeep.orders.models import Order, Refund
from shopkeep.orders.refunds import REFUNDABLE
from shopkeep.payments.flows import refund_request
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.payments.gateways.sandbox import SandboxGateway
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Store
from shopkeep.stores.permissions import Perm, role_has

PAGE_SIZE = 50
DISPUTE_OUTCOMES = {str(status) for status in Dispute.RESOLVED}


class RefundForm(forms.Form):
    amount = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2,
                                help_text="Leave empty to refund everything that is left.")
    reason = forms.CharField(required=False, max_length=500)


def _can_refund(request: HttpRequest) -> bool:
    return role_has(request.membership.role, Perm.ORDERS_REFUND)


def _choice(value: str | None, choices: list[str]) -> str:
    return value if value in choices else ""


@store_view(Perm.ORDERS_VIEW)
def order_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    status = _choice(params.get("status"), Order.Status.values)
    payment_status = _choice(params.get("payment_status"), Order.PaymentStatus.values)
    mode = _choice(params.get("mode"), ["test", "live"])
    q = params.get("q", "")[:100]
    qs = selectors.orders(store=request.store, status=status, payment_status=payment_status,
                          search=q, test={"test": True, "live": False}.get(mode))
    page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
    return render(request, "dashboard/orders/order_list.html", {
        "page": page, "q": q, "status": status, "payment_status": payment_status,
        "mode": mode, "filtered": bool(q or status or payment_status or mode),
        "statuses": Order.Status.choices, "payment_statuses": Order.PaymentStatus.choices})


def _timeline(store: Store, order: Order) -> list[dict]:
    """Audit rows (who did what) and event rows (what the webhooks saw), oldest first."""
    rows = [{"at": a.created_at, "what": a.action, "who": a.actor_label}
            for a in AuditLog.objects.filter(store=store, object_type="order",
                                             object_id=str(order.pk))]
    # A plain key lookup on the JSON column: the same SQL shape on SQLite and PostgreSQL.
    rows += [{"at": e.created_at, "what": f"event {e.event_type}", "who": ""}
             for e in Event.objects.filter(store=store, data__order_number=order.order_number)]
    return sorted(rows, key=lambda row: row["at"])


def _refundable_now(order: Order) -> Decimal:
    """What a new refund may take: refunds still pending at the worker count as spent, as
    ``refund_request`` counts them."""
    if order.paid_at is None or order.status not in REFUNDABLE:
        return Decimal("0")
    pending = order.refunds.filter(status=Refund.Status.PENDING).aggregate(s=Sum("amount"))["s"]
    return order.refundable_amount - (pending or Decimal("0"))


def _can_simulate(store: Store, order: Order) -> bool:
    return (store.test_mode and order.is_test_order and order.payment_gateway == "sandbox"
            and bool(order.gateway_payment_id))


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
                                 "requested. A worker sends it to the payment gateway; it "
                                 "shows as pending until the gateway confirms it.")
                return redirect("dashboard:order_detail", store_slug=store.slug,
                                order_id=order.pk)
    refundable = _refundable_now(order)
    disputes = list(order.disputes.all())
    return render(request, "dashboard/orders/order_detail.html", {
        "order": order, "items": order.items.all(), "refunds": order.refunds.all(),
        "disputes": [(d, from_minor(d.amount_minor, d.currency)) for d in disputes],
        "timeline": _timeline(store, order), "form": form, "refundable": refundable,
        "can_refund": can_refund and refundable > 0,
        "can_simulate": can_refund and _can_simulate(store, order),
        "open_dispute": next((d for d in disputes if d.status not in Dispute.RESOLVED), None),
        "subscriptions": order.subscriptions.select_related("product"),
        "deliveries": delivery_selectors.order_deliveries(order=order),
        "can_retry_delivery": role_has(request.membership.role, Perm.SERVERS_MANAGE),
    })


@require_POST
@store_view(Perm.ORDERS_REFUND)
def order_simulate(request: HttpRequest, order_id: int, what: str) -> HttpResponse:
    """Test mode only: ask the sandbox provider to raise or close a dispute. Its notice is
    delivered on commit, through the same path as a real provider's webhook."""
    store = request.store
    order = get_for_store(Order, store, pk=order_id)
    if what != "dispute" and what not in DISPUTE_OUTCOMES:
        raise Http404("unknown simulation")
    back = redirect("dashboard:order_detail", store_slug=store.slug, order_id=order.pk)
    if not _can_simulate(store, order):
        messages.error(request, "Simulations are for sandbox orders of a store in test mode.")
        return back
    open_dispute = order.disputes.exclude(status__in=Dispute.RESOLVED).first()
    sandbox = SandboxGateway()
    try:
        if what == "dispute":
            if open_dispute is not None:
                messages.error(request, "This order already has an open dispute.")
                return back
            if order.refundable_amount <= 0:
                messages.error(request, "Nothing is left of this payment to dispute.")
                return back
            sandbox.simulate_dispute(payment_id=order.gateway_payment_id)
            messages.success(request, "The sandbox opened a dispute for this payment.")
        else:
            if open_dispute is None:
                messages.error(request, "This order has no open dispute.")
                return back
            sandbox.simulate_dispute_close(payment_id=order.gateway_payment_id,
                                           dispute_id=open_dispute.gateway_dispute_id,
                                           status=what, amount_minor=open_dispute.amount_minor,
                                           reason=open_dispute.reason)
            messages.success(request, f"The sandbox closed the dispute as {what}.")
    except GatewayError as exc:
        messages.error(request, exc.message)
    return back


@store_view(Perm.ORDERS_VIEW)
def dispute_list(request: HttpRequest) -> HttpResponse:
    status = _choice(request.GET.get("status"), Dispute.Status.values)
    qs = Dispute.objects.filter(store=request.store).select_related("order")
    if status:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(d, from_minor(d.amount_minor, d.currency)) for d in page]
    return render(request, "dashboard/orders/dispute_list.html", {
        "page": page, "rows": rows, "status": status, "statuses": Dispute.Status.choices})
