from __future__ import annotations

from datetime import timedelta

from django.core.mail import send_mail
from django_tasks import task

from shopkeep.core.scheduler import register_periodic


@task()
def send_support_email(*, to: list[str], subject: str, body: str) -> None:
    """Queued in the transaction of the change it reports; sent by the worker."""
    send_mail(subject=subject, message=body, from_email=None, recipient_list=to)


@task()
def auto_close_tickets() -> dict:
    from shopkeep.support.jobs import tickets_auto_close

    return tickets_auto_close()


register_periodic(name="support.auto_close", task=auto_close_tickets, every=timedelta(days=1))


@task()
def notify_sla_breaches() -> int:
    from shopkeep.support.staff_tools import breaches_notify

    return breaches_notify()


register_periodic(name="support.notify_sla_breaches", task=notify_sla_breaches,
                  every=timedelta(minutes=5))
