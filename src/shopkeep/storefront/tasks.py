from __future__ import annotations

from django.core.mail import send_mail
from django_tasks import task


@task()
def send_login_link(*, to: str, store_name: str, url: str) -> None:
    """Outbound mail happens in the worker, never inside the request."""
    send_mail(
        subject=f"Your sign-in link for {store_name}",
        message=(f"Open this link to see your orders and subscriptions at {store_name}:\n\n"
                 f"{url}\n\nIt works for 30 minutes. If you did not ask for it, "
                 "ignore this e-mail."),
        from_email=None, recipient_list=[to])
