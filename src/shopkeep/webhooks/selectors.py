from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from shopkeep.stores.models import Store
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoints(*, store: Store) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(store=store).order_by("id")


def deliveries(*, store: Store, endpoint: WebhookEndpoint | None = None, status: str = "",
               event_type: str = "", since: datetime | None = None,
               until: datetime | None = None) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first; unknown filter values match nothing rather than
    everything, so a typo never shows an unfiltered log as if it were filtered."""
    qs = WebhookDelivery.objects.filter(store=store).select_related("endpoint").defer("body")
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    if status:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event_type=event_type)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-id")
