from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic


@task()
def reconcile_subscriptions() -> int:
    from shopkeep.subscriptions.services import subscriptions_reconcile

    return len(subscriptions_reconcile())


@task()
def retry_due_renewals() -> int:
    from shopkeep.subscriptions.services import subscriptions_retry_due

    return subscriptions_retry_due()


@task()
def end_due_subscriptions() -> int:
    from shopkeep.subscriptions.services import subscriptions_end_due

    return subscriptions_end_due()


register_periodic(name="subscriptions.reconcile", task=reconcile_subscriptions,
                  every=timedelta(hours=1))
register_periodic(name="subscriptions.retry_due", task=retry_due_renewals,
                  every=timedelta(minutes=5))
register_periodic(name="subscriptions.end_due", task=end_due_subscriptions,
                  every=timedelta(minutes=1))
