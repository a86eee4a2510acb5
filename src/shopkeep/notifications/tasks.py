from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic


@task()
def outbox_scan_task() -> int:
    from shopkeep.notifications.services import outbox_requeue_stale, outbox_scan

    return outbox_scan() + outbox_requeue_stale()


@task()
def email_send_task(outbox_id: int) -> str:
    from shopkeep.notifications.services import email_send

    return email_send(outbox_id=outbox_id)


register_periodic(name="notifications.scan", task=outbox_scan_task, every=timedelta(seconds=10))
