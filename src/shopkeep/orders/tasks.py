from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic
from shopkeep.orders.idempotency import idempotency_keys_prune
from shopkeep.orders.services import orders_expire_unpaid


@task()
def expire_unpaid_orders() -> int:
    return orders_expire_unpaid()


register_periodic(name="orders.expire_unpaid", task=expire_unpaid_orders,
                  every=timedelta(minutes=1))


@task()
def prune_idempotency_keys() -> int:
    return idempotency_keys_prune()


register_periodic(name="orders.prune_idempotency_keys", task=prune_idempotency_keys,
                  every=timedelta(hours=1))
