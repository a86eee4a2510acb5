"""Stripe events about a charge: refunds made in Stripe's dashboard, and disputes.

A charge carries none of our metadata. Its order is found by the PaymentIntent that paid a
one-time order (our ``gateway_payment_id``) or, for a subscription, through Stripe's API
(the invoice the payment belongs to, whose subscription metadata names the order). API calls
never run in a request, so the webhook enqueues ``payments.stripe_charge_event`` and this
module runs in the worker.

``charge.refunded`` carries no refund list (Stripe stopped including it in 2022), so the
worker lists the charge's refunds: ours (metadata ``shopkeep_refund_key``) settle our pending
refund; any other is a refund made in Stripe's dashboard and is recorded once, by its id.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from shopkeep.orders.models import Order, Refund
from shopkeep.payments.flows import refund_settle
from shopkeep.payments.gateways.base import DISPUTE_REASONS, GatewayError, Notice
from shopkeep.payments.gateways.stripe import StripeGateway
from shopkeep.payments.gateways.stripe_objects import dig, id_of
from shopkeep.payments.models import StripeConnection
from shopkeep.payments.services import notice_receive

logger = logging.getLogger("shopkeep.payments.stripe")
REFUND_KEY_PREFIX = "shopkeep-refund-"
STRIPE_DISPUTE_REASONS = {
    **DISPUTE_REASONS,
    "subscription_canceled": "Customer says the subscription was cancelled",
    "unrecognized": "Customer does not recognise the charge",
    "credit_not_processed": "Customer says a promised refund was not made",
    "product_unacceptable": "Customer says the purchase was defective or not as described",
}


def _order_for(gateway: StripeGateway, obj: dict) -> Order | None:
    store = gateway.connection.store
    orders = Order.objects.filter(store=store, payment_gateway="stripe")
    intent = id_of(obj.get("payment_intent"))
    if intent:
        order = orders.filter(gateway_payment_id=intent).first()
        if order is not None:
            return order
        invoice_id = gateway.invoice_for_payment_intent(intent)
        if invoice_id:
            order = orders.filter(gateway_payment_id=invoice_id).first()
            if order is not None:
                return order
            # A renewal's invoice: the subscription's metadata names the order it started from.
            invoice = gateway.retrieve_invoice(invoice_id)
            reference = dig(invoice, "parent", "subscription_details", "metadata",
                            "shopkeep_order")
            if reference:
                return orders.filter(order_number=reference).first()
    charge = id_of(obj.get("charge")) or (obj.get("id") if obj.get("object") == "charge" else "")
    return orders.filter(gateway_payment_id=charge).first() if charge else None


def stripe_charge_event_apply(*, connection_id: int, event: dict) -> list[str]:
    """Apply one verified charge event; safe to run twice (every notice is deduplicated)."""
    connection = (StripeConnection.objects.select_related("store")
                  .filter(pk=connection_id).first())
    if connection is None:
        return ["ignored: Stripe was disconnected"]
    gateway = StripeGateway(connection)
    obj = event["data"]["object"]
    try:
        order = _order_for(gateway, obj)
        if order is None:
            return ["ignored: no order of this store for this charge"]
        if event["type"] == "charge.refunded":
            return _refunds(gateway, order, obj)
        return [notice_receive(store=connection.store, gateway="stripe",
                               notice=_dispute_notice(event, order, obj))]
    except GatewayError as exc:
        # Raising makes the worker record a failure; Stripe resends too, and each notice is
        # deduplicated, so retrying later is safe.
        logger.warning("store %s: stripe event %s not applied: %s", connection.store_id,
                       event.get("id"), exc.message)
        raise


def _refunds(gateway: StripeGateway, order: Order, charge: dict) -> list[str]:
    outcomes = []
    for refund in gateway.list_refunds(charge_id=charge["id"]):
        if dig(refund, "status") != "succeeded":
            continue
        key = str(dig(refund, "metadata", "shopkeep_refund_key", default=""))
        if key.startswith(REFUND_KEY_PREFIX):
            ours = Refund.objects.filter(pk=_int(key[len(REFUND_KEY_PREFIX):]),
                                         order=order).first()
            if ours is not None and refund_settle(refund_id=ours.pk,
                                                  gateway_refund_id=refund.id):
                outcomes.append(f"refund {ours.pk} settled")
            continue
        outcomes.append(notice_receive(store=order.store, gateway="stripe", notice=Notice(
            event_id=refund.id, kind="refund.succeeded",
            occurred_at=datetime.fromtimestamp(int(dig(refund, "created", default=0)), tz=UTC),
            reference=order.order_number, payment_id=refund.id, charge_id=charge["id"],
            amount_minor=int(dig(refund, "amount", default=0)),
            currency=str(dig(refund, "currency", default="")).upper())))
    return outcomes


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _dispute_notice(event: dict, order: Order, dispute: dict) -> Notice:
    reason = str(dispute.get("reason") or "general")
    due = dig(dispute, "evidence_details", "due_by")
    return Notice(
        event_id=str(event["id"]),
        kind="dispute.created" if event["type"] == "charge.dispute.created" else "dispute.closed",
        occurred_at=datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC),
        reference=order.order_number, payment_id=id_of(dispute.get("payment_intent")),
        charge_id=id_of(dispute.get("charge")), dispute_id=str(dispute["id"]),
        amount_minor=int(dispute.get("amount") or 0),
        currency=str(dispute.get("currency") or "").upper(), dispute_reason=reason,
        dispute_reason_description=STRIPE_DISPUTE_REASONS.get(reason, reason),
        dispute_status=str(dispute.get("status") or ""),
        evidence_due_by=datetime.fromtimestamp(int(due), tz=UTC) if due else None)
