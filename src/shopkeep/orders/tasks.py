from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic


@task()
def expire_unpaid_orders() -> int:
    from shopkeep.orders.services import orders_expire_unpaid

    return orders_expire_unpaid()


@task()
def refund_execute(refund_id: int) -> str:
    from shopkeep.orders.refunds import refund_execute as execute

    return execute(refund_id=refund_id)


register_periodic(name="orders.expire_unpaid", task=expire_unpaid_orders,
                  every=timedelta(minutes=1))


@task()
def prune_idempotency_keys() -> int:
    from shopkeep.orders.idempotency import idempotency_keys_prune

    return idempotency_keys_prune()


register_periodic(name="orders.prune_idempotency_keys", task=prune_idempotency_keys,
                  every=timedelta(hours=1))


@task()
def reconcile_refunds() -> list[str]:
    """Refunds pending for more than a few minutes: ask the gateway and settle them."""
    from shopkeep.orders.refund_reconcile import refunds_reconcile

    return refunds_reconcile()


register_periodic(name="orders.reconcile_refunds", task=reconcile_refunds,
                  every=timedelta(minutes=1))
