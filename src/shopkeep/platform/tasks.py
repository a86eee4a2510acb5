"""Periodic jobs of the platform app."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core import heartbeat
from shopkeep.core.scheduler import register_periodic


@task()
def prune_heartbeats() -> int:
    return heartbeat.prune()


register_periodic(name="platform.prune_heartbeats", task=prune_heartbeats,
                  every=timedelta(hours=1))


@task()
def send_status_email(*, to: list[str], subject: str, body: str) -> None:
    """Queued in the transaction of the incident update or subscription it reports."""
    from django.core.mail import send_mail

    send_mail(subject=subject, message=body, from_email=None, recipient_list=to)


@task()
def sample_status() -> dict:
    from shopkeep.platform.status_services import status_sample

    return status_sample()


register_periodic(name="platform.sample_status", task=sample_status,
                  every=timedelta(minutes=5))
