from __future__ import annotations

from django.http import HttpRequest

from shopkeep.stores.permissions import Perm, role_has


def banner(request: HttpRequest) -> dict:
    """Endpoints the dispatcher disabled (410 or 5 days failing), for the dashboard banner."""
    membership = getattr(request, "membership", None)
    if membership is None or not role_has(membership.role, Perm.WEBHOOKS_MANAGE):
        return {}
    from shopkeep.webhooks.models import WebhookEndpoint

    disabled = list(WebhookEndpoint.objects.filter(
        store_id=membership.store_id, is_active=False,
        disabled_reason__in=[WebhookEndpoint.DisabledReason.GONE,
                             WebhookEndpoint.DisabledReason.FAILING],
    ).only("pk", "url", "disabled_reason")[:5])
    return {"webhooks_disabled": disabled} if disabled else {}
