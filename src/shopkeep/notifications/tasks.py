from __future__ import annotations

from datetime import timedelta

from django_tasks import TaskContext, task

from shopkeep.core.scheduler import register_periodic


@task()
def outbox_scan_task() -> int:
    from shopkeep.notifications.services import outbox_requeue_stale, outbox_scan

    return outbox_scan() + outbox_requeue_stale()


@task(takes_context=True)
def email_send_task(context: TaskContext, outbox_id: int) -> str:
    from shopkeep.notifications.services import email_send

    # The task's id names the claim: a re-run of this task (its worker died) takes the row
    # over; another task for the same row waits for the row's own lease.
    return email_send(outbox_id=outbox_id, claim=f"task:{context.task_result.id}")


register_periodic(name="notifications.scan", task=outbox_scan_task, every=timedelta(seconds=10))


@task()
def scheduled_mails_task() -> int:
    from shopkeep.notifications.scheduled import (
        abandoned_baskets_queue,
        daily_summaries_queue,
        renewal_reminders_queue,
    )

    return renewal_reminders_queue() + daily_summaries_queue() + abandoned_baskets_queue()


# Every 5 minutes: a reminder's delay is in hours and a summary waits for local midnight, so
# this is prompt enough, and each run is cheap (indexed time windows, dedup keys).
register_periodic(name="notifications.scheduled", task=scheduled_mails_task,
                  every=timedelta(minutes=5))
