"""Payments' background jobs: applying recorded notices, Stripe charge events, and the
periodic jobs that call gateways through the flow layer (subscriptions, refunds).

The sandbox's own clock (``payments.sandbox_bill_due``) lives with the sandbox, and the
refund execution job with the flow that queues it (``payments.flows.refund_execute_task``).
"""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic
from shopkeep.payments import flows
from shopkeep.payments.paypal_worker import (
    paypal_capture_apply,
    paypal_sale_apply,
    paypal_sweep_approved,
)
from shopkeep.payments.refund_reconcile import refunds_reconcile
from shopkeep.payments.services import notice_process
from shopkeep.payments.stripe_charges import stripe_charge_event_apply


@task()
def stripe_charge_event(connection_id: int, event: dict) -> list[str]:
    """A verified charge.refunded / charge.dispute.* event; needs Stripe's API, so a worker."""
    return stripe_charge_event_apply(connection_id=connection_id, event=event)


@task()
def paypal_capture(connection_id: int, paypal_order_id: str) -> list[str]:
    """Capture an order the buyer approved at PayPal (CHECKOUT.ORDER.APPROVED)."""
    return paypal_capture_apply(connection_id=connection_id, paypal_order_id=paypal_order_id)


@task()
def paypal_sale_event(connection_id: int, event: dict) -> list[str]:
    """A verified PAYMENT.SALE.COMPLETED: reads the subscription's new period at PayPal."""
    return paypal_sale_apply(connection_id=connection_id, event=event)


@task()
def paypal_sweep() -> list[str]:
    return paypal_sweep_approved()


@task()
def process_notice(event_id: int) -> str:
    """Apply one recorded gateway notice (the sandbox's, written in the transaction of the
    charge it reports); applying twice is a no-op."""
    return notice_process(event_id=event_id)


@task()
def reconcile_subscriptions() -> int:
    return len(flows.subscriptions_reconcile())


@task()
def retry_due_renewals() -> int:
    return flows.subscriptions_retry_due()


@task()
def end_due_subscriptions() -> int:
    return flows.subscriptions_end_due()


@task()
def reconcile_refunds() -> list[str]:
    """Refunds pending for more than a few minutes: ask the gateway and settle them."""
    return refunds_reconcile()


# The names are the jobs' since before they moved here (their schedule rows keep them).
register_periodic(name="subscriptions.reconcile", task=reconcile_subscriptions,
                  every=timedelta(hours=1))
register_periodic(name="subscriptions.retry_due", task=retry_due_renewals,
                  every=timedelta(minutes=5))
register_periodic(name="subscriptions.end_due", task=end_due_subscriptions,
                  every=timedelta(minutes=1))
register_periodic(name="payments.paypal_sweep", task=paypal_sweep, every=timedelta(minutes=5))
register_periodic(name="orders.reconcile_refunds", task=reconcile_refunds,
                  every=timedelta(minutes=1))
