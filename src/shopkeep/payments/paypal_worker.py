"""PayPal work that needs PayPal's API: captures, renewals' periods, and the sweep that
captures approved orders whose return and webhook were both lost.

Every function is safe to run twice, and concurrently with the buyer's return: the capture
carries ``PayPal-Request-Id`` (PayPal captures once), and the payment is applied through
``order_mark_paid``, which locks the order row and pays it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from shopkeep.orders.models import Order
from shopkeep.payments.gateways.base import GatewayError, Notice
from shopkeep.payments.gateways.paypal import (
    PayPalGateway,
    activation_notice,
    minor_of,
    parse_time,
    state_of,
)
from shopkeep.payments.models import PayPalConnection
from shopkeep.payments.services import notice_receive
from shopkeep.subscriptions.models import Subscription

logger = logging.getLogger("shopkeep.payments.paypal")
SWEEP_AFTER = timedelta(minutes=3)
SWEEP_WINDOW = timedelta(days=3)  # PayPal lets an approved order be captured for 3 days


def _connection(connection_id: int) -> PayPalConnection | None:
    return PayPalConnection.objects.select_related("store").filter(pk=connection_id).first()


def _apply(gateway: PayPalGateway, notices: list[Notice]) -> list[str]:
    store = gateway.connection.store
    outcomes = []
    for notice in notices:
        if not Order.objects.filter(store=store, payment_gateway="paypal",
                                    order_number=notice.reference).exists():
            outcomes.append("ignored: not an order of this store")
            continue
        outcomes.append(notice_receive(store=store, gateway="paypal", notice=notice))
    return outcomes


def paypal_capture_apply(*, connection_id: int, paypal_order_id: str) -> list[str]:
    """Capture an approved PayPal order of this store and apply what PayPal answers."""
    connection = _connection(connection_id)
    if connection is None:
        return ["ignored: PayPal was disconnected"]
    if not Order.objects.filter(store=connection.store, payment_gateway="paypal",
                                gateway_session_id=paypal_order_id).exists():
        # Only orders this store opened: an event naming another app's order is not ours
        # to capture.
        return ["ignored: not an order of this store"]
    gateway = PayPalGateway(connection)
    return _apply(gateway, gateway.capture(paypal_order_id=paypal_order_id)) or [
        "not approved yet"]


def paypal_subscription_return(*, connection: PayPalConnection,
                               subscription_id: str) -> list[str]:
    """The buyer is back from approving a subscription: read it at PayPal, and apply it if
    PayPal says it is ACTIVE (the redirect alone proves nothing)."""
    if not Order.objects.filter(store=connection.store, payment_gateway="paypal",
                                gateway_session_id=subscription_id).exists():
        return ["ignored: not an order of this store"]
    gateway = PayPalGateway(connection)
    notice = activation_notice(gateway.subscription(subscription_id),
                               event_id=f"activated:{subscription_id}")
    return _apply(gateway, [notice]) if notice is not None else ["not active yet"]


def paypal_sale_apply(*, connection_id: int, event: dict) -> list[str]:
    """``PAYMENT.SALE.COMPLETED``: a subscription payment. The first one is the activation's
    (nothing to change); a later one moves the period to PayPal's next billing time."""
    connection = _connection(connection_id)
    if connection is None:
        return ["ignored: PayPal was disconnected"]
    sale = event["resource"]
    subscription_id = str(sale.get("billing_agreement_id") or "")
    ours = Subscription.objects.filter(store=connection.store, payment_gateway="paypal",
                                       gateway_subscription_id=subscription_id
                                       ).select_related("order").first()
    if not subscription_id:
        return ["ignored: not a subscription payment"]
    gateway = PayPalGateway(connection)
    sub = gateway.subscription(subscription_id)
    reference = str(sub.get("custom_id") or "")
    if ours is None and not Order.objects.filter(store=connection.store,
                                                 payment_gateway="paypal",
                                                 order_number=reference).exists():
        return ["ignored: not a subscription of this store"]
    state = state_of(sub, ours=ours)
    amount, currency = minor_of(sale.get("amount"), currency_field="currency",
                                value_field="total")
    occurred = parse_time(sale.get("create_time")) or timezone.now()
    if ours is None:
        # The payment overtook the activation: activating pays the order and starts it.
        notice = activation_notice(sub, event_id=f"activated:{subscription_id}")
        return _apply(gateway, [notice]) if notice is not None else ["not active yet"]
    return _apply(gateway, [Notice(
        event_id=str(event["id"]), kind="subscription.renewed", occurred_at=occurred,
        reference=reference, payment_id=str(sale.get("id") or ""),
        subscription_id=subscription_id, amount_minor=amount, currency=currency,
        period_start=state.current_period_start, period_end=state.current_period_end)])


def paypal_sweep_approved(*, now: datetime | None = None, limit: int = 100) -> list[str]:
    """Periodic: unpaid PayPal orders older than a few minutes are looked up at PayPal and
    captured if the buyer approved them (a lost return and a lost webhook)."""
    now = now or timezone.now()
    lines = []
    pending = (Order.objects.filter(payment_gateway="paypal", paid_at__isnull=True,
                                    created_at__gte=now - SWEEP_WINDOW,
                                    updated_at__lte=now - SWEEP_AFTER)
               .exclude(gateway_session_id="").exclude(gateway_session_id__startswith="I-")
               .select_related("store").order_by("created_at")[:limit])
    for order in pending:
        connection = PayPalConnection.objects.filter(store=order.store).first()
        if connection is None:
            continue
        try:
            outcomes = paypal_capture_apply(connection_id=connection.pk,
                                            paypal_order_id=order.gateway_session_id)
        except GatewayError as exc:
            if exc.code not in ("resource_not_found", "invalid_resource_id"):
                logger.warning("paypal sweep: order %s: %s", order.order_number, exc.code)
            continue
        if outcomes != ["not approved yet"]:
            lines.append(f"order {order.order_number}: {'; '.join(outcomes)}")
    return lines
