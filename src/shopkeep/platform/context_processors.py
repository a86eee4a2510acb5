from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone


def status_banner(request: HttpRequest) -> dict:
    """Open incidents and running maintenance that touch a component this store uses, for
    the dashboard banner (storefront, checkout and dashboard always; the delivery API with a
    game server; webhooks with an endpoint)."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    from shopkeep.platform.models import Incident

    now = timezone.now()
    live = [i for i in Incident.objects.filter(resolved_at__isnull=True).exclude(
        status__in=Incident.CLOSED).only("pk", "title", "kind", "status", "impact",
                                         "components", "starts_at", "ends_at")[:10]
            if i.active_at(now)]
    if not live:
        return {}
    used = {"storefront", "checkout", "dashboard"}
    wanted = {c for i in live for c in i.components} - used
    if "delivery_api" in wanted:
        from shopkeep.delivery.models import GameServer

        if GameServer.objects.filter(store_id=membership.store_id,
                                     removed_at__isnull=True).exists():
            used.add("delivery_api")
    if "webhooks" in wanted:
        from shopkeep.webhooks.models import WebhookEndpoint

        if WebhookEndpoint.objects.filter(store_id=membership.store_id).exists():
            used.add("webhooks")
    affecting = [i for i in live if used & set(i.components)]
    return {"status_incidents": affecting} if affecting else {}
