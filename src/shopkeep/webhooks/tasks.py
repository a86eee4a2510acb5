from __future__ import annotations

from datetime import timedelta

from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from shopkeep.core.absolute import absolute_url
from shopkeep.core.scheduler import register_periodic


@task()
def prune_deliveries() -> int:
    from shopkeep.webhooks.services import deliveries_prune

    return deliveries_prune()


register_periodic(name="webhooks.prune_deliveries", task=prune_deliveries,
                  every=timedelta(days=1))


@task()
def notify_endpoint_disabled(endpoint_id: int) -> int:
    """E-mail the store's owners; the dashboard shows a banner until the endpoint is back."""
    from shopkeep.stores.models import Membership, Role
    from shopkeep.webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.select_related("store").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.is_active:
        return 0
    recipients = sorted(Membership.objects.filter(store=endpoint.store, role=Role.OWNER)
                        .values_list("user__email", flat=True))
    if not recipients:
        return 0
    reason = endpoint.get_disabled_reason_display()
    link = absolute_url(reverse("dashboard:webhook_detail",
                                args=[endpoint.store.slug, endpoint.pk]))
    send_mail(
        subject=f"[Shopkeep] Webhook endpoint disabled: {endpoint.url[:80]}",
        message=(f"The webhook endpoint {endpoint.url} of {endpoint.store.name} was disabled.\n"
                 f"Reason: {reason}.\n\nDeliveries wait until you enable it again: {link}\n"),
        from_email=None, recipient_list=recipients)
    return len(recipients)
