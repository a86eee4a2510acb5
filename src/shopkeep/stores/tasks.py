from __future__ import annotations

from django.core.mail import send_mail
from django_tasks import task


@task()
def send_store_email(*, to: list[str], subject: str, body: str) -> None:
    """Queued in the transaction of the change it reports (approval decisions)."""
    send_mail(subject=subject, message=body, from_email=None, recipient_list=to)
