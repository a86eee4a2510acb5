from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic


@task()
def sandbox_bill_due() -> int:
    """The sandbox provider's own clock: renew or end its subscriptions when periods end."""
    from shopkeep.payments.gateways.sandbox import SandboxGateway

    return SandboxGateway().bill_due()


register_periodic(name="payments.sandbox_bill_due", task=sandbox_bill_due,
                  every=timedelta(minutes=1))
