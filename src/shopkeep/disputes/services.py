"""Chargebacks: opened and resolved by gateway notices, each once, in either order.

Opening a dispute marks the order ``disputed``; ``payments.flows.dispute_open`` queues the
product's chargeback commands in the same transaction. A ``lost`` dispute counts the amount as taken
back (``net_amount_impact`` negative) and leaves the order ``disputed``; ``won`` and
``warning_closed`` leave the order what its other facts say (orders/lifecycle.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from shopkeep.core.text import clean_line
from shopkeep.disputes import payloads
from shopkeep.disputes.models import Dispute
from shopkeep.events.services import emit
from shopkeep.orders.lifecycle import order_sync
from shopkeep.orders.models import Order
from shopkeep.orders.payloads import order_data
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.models import Store

REASON_CODES = frozenset({"fraudulent", "product_not_received", "duplicate", "general",
                          "subscription_canceled", "unrecognized", "credit_not_processed"})


def _order(store: Store, order_number: str, gateway: str) -> Order | None:
    """The store's order, row-locked; another store's order is None (same as missing)."""
    return (Order.objects.select_for_update().select_related("store")
            .filter(store=store, order_number=order_number, payment_gateway=gateway).first())


def dispute_known(*, store: Store, gateway: str, dispute_id: str) -> bool:
    return Dispute.objects.filter(store=store, payment_gateway=gateway,
                                  gateway_dispute_id=dispute_id).exists()


@transaction.atomic
def dispute_record_opened(*, store: Store, gateway: str, order_number: str, dispute_id: str,
                          charge_id: str, amount_minor: int, currency: str, reason: str,
                          reason_description: str, evidence_due_by: datetime | None,
                          opened_at: datetime) -> Dispute | None:
    """A new dispute on the store's paid order: ``disputed``, ``dispute.created``. None when
    the order is not the store's, unpaid, or the dispute is known already."""
    order = _order(store, order_number, gateway)
    if order is None or order.paid_at is None:
        return None
    # The store's own disputes only: another store's notice naming this id first must not
    # keep this store's real dispute (and its chargeback commands) from being recorded.
    dispute = Dispute.objects.select_for_update().filter(
        store=order.store, payment_gateway=gateway, gateway_dispute_id=dispute_id).first()
    if dispute is not None:
        return None  # already known (opened, or closed first by an out-of-order notice)
    dispute = Dispute.objects.create(
        store=order.store, order=order, payment_gateway=gateway, gateway_dispute_id=dispute_id,
        charge_id=charge_id, amount_minor=amount_minor, currency=currency,
        reason=reason if reason in REASON_CODES else "general",
        reason_description=clean_line(reason_description, max_length=300),
        evidence_due_by=evidence_due_by, created_at=opened_at)
    order_sync(order=order)
    emit(store=order.store, event_type="dispute.created", data=payloads.created_data(dispute))
    emit(store=order.store, event_type="order.updated", data=order_data(order))
    audit_record(store=order.store, actor=Actor.system(gateway), action="dispute.created",
                 obj=order, details={"dispute_id": dispute_id, "amount": amount_minor})
    return dispute


@transaction.atomic
def dispute_record_resolved(*, store: Store, gateway: str, order_number: str,
                            dispute_id: str, status: str,
                            resolved_at: datetime) -> Dispute | None:
    """A known dispute closed. A close that overtakes its open is opened first by the flow
    layer (``payments.flows.dispute_resolve``), so both events and the chargeback commands
    happen."""
    if status not in Dispute.RESOLVED:
        raise ValueError(f"not a final dispute status: {status!r}")
    order = _order(store, order_number, gateway)
    if order is None:
        return None
    dispute = Dispute.objects.select_for_update().filter(
        order=order, payment_gateway=gateway, gateway_dispute_id=dispute_id).first()
    if dispute is None:
        return None
    if dispute.status in Dispute.RESOLVED:
        return None
    dispute.status = status
    dispute.resolved_at = resolved_at
    dispute.net_amount_impact = -dispute.amount_minor if status == Dispute.Status.LOST else 0
    dispute.save()
    # A lost dispute leaves the order disputed (the money went back through the bank); a won
    # one leaves the order what its other facts say: delivered is completed again.
    order_sync(order=order)
    emit(store=order.store, event_type="dispute.resolved", data=payloads.resolved_data(dispute))
    emit(store=order.store, event_type="order.updated", data=order_data(order))
    audit_record(store=order.store, actor=Actor.system(gateway), action="dispute.resolved",
                 obj=order, details={"dispute_id": dispute_id, "status": status})
    return dispute
