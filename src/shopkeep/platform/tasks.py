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


@task()
def billing_push_email(*, store_id: int) -> None:
    """The billing e-mail set in the dashboard becomes the Stripe customer's e-mail, so
    Stripe's own invoice mails go there too."""
    from shopkeep.platform.billing import client
    from shopkeep.stores.models import StoreBilling

    billing = StoreBilling.objects.filter(store_id=store_id).first()
    if billing and billing.stripe_customer_id and billing.billing_email:
        client().v1.customers.update(billing.stripe_customer_id,
                                     params={"email": billing.billing_email})
