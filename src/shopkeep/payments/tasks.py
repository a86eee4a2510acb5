from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic


@task()
def sandbox_bill_due() -> int:
    """The sandbox provider's own clock: renew or end its subscriptions when periods end,
    finish the refunds it reported pending."""
    from shopkeep.payments.gateways.sandbox import SandboxGateway

    sandbox = SandboxGateway()
    return sandbox.bill_due() + sandbox.settle_slow_refunds()


register_periodic(name="payments.sandbox_bill_due", task=sandbox_bill_due,
                  every=timedelta(minutes=1))


@task()
def stripe_charge_event(connection_id: int, event: dict) -> list[str]:
    """A verified charge.refunded / charge.dispute.* event; needs Stripe's API, so a worker."""
    from shopkeep.payments.stripe_charges import stripe_charge_event_apply

    return stripe_charge_event_apply(connection_id=connection_id, event=event)


@task()
def process_notice(event_id: int) -> str:
    """Apply one recorded gateway notice (the sandbox's, written in the transaction of the
    charge it reports); applying twice is a no-op."""
    from shopkeep.payments.services import notice_process

    return notice_process(event_id=event_id)
