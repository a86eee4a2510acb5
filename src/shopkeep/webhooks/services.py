"""Webhook writes: endpoints, secrets, test sends, redelivery, disabling and retention.

Nothing here sends anything: a delivery is a row the dispatcher picks up after commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shopkeep.core.errors import ServiceError
from shopkeep.core.http import UnsafeURL, check_url
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.events.catalogue import is_known, is_legacy
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.limits import limit_check
from shopkeep.stores.models import Store
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint
from shopkeep.webhooks.payloads import render_body
from shopkeep.webhooks.samples import sample_data
from shopkeep.webhooks.signing import new_secret

MAX_ENDPOINTS = 20
SECRET_OVERLAP = timedelta(hours=24)


def clean_url(url: str) -> str:
    try:
        return check_url(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
                         require_https=not settings.WEBHOOK_ALLOW_HTTP)
    except UnsafeURL as exc:
        raise ServiceError("invalid_url", str(exc), field="url") from None


def _clean_events(events: list[str], all_events: bool) -> list[str]:
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ServiceError("invalid_events", "Events must be a list of event names.",
                           field="events")
    unknown = sorted({e for e in events if not is_known(e)})
    if unknown:
        raise ServiceError("invalid_events", "Unknown event type(s): " + ", ".join(
            e[:64] for e in unknown[:5]), field="events")
    cleaned = list(dict.fromkeys(events))
    if not cleaned and not all_events:
        raise ServiceError("invalid_events", "Choose at least one event, or all events.",
                           field="events")
    # "All events" covers the current names; legacy names still need ticking one by one.
    return [e for e in cleaned if is_legacy(e)] if all_events else cleaned


def _clean_description(description: str) -> str:
    if not isinstance(description, str) or has_control_chars(description):
        raise ServiceError("invalid_description", "The description is not valid.",
                           field="description")
    return clean_line(description, max_length=200)


def _clean_format(fmt: str) -> str:
    if fmt not in WebhookEndpoint.Format.values:
        raise ServiceError("invalid_format", "Format must be one of: "
                           + ", ".join(WebhookEndpoint.Format.values), field="format")
    return fmt


@transaction.atomic
def endpoint_create(*, store: Store, actor: Actor, url: str, events: list[str],
                    all_events: bool = False, description: str = "",
                    format: str = WebhookEndpoint.Format.JSON) -> WebhookEndpoint:
    url = clean_url(url)
    events = _clean_events(events, all_events)
    description = _clean_description(description)
    fmt = _clean_format(format)
    # Locking the store row serialises concurrent creations, so the cap holds.
    Store.objects.select_for_update().filter(pk=store.pk).first()
    limit_check(store=store, resource="webhook_endpoints",
                count=WebhookEndpoint.objects.filter(store=store).count)
    if WebhookEndpoint.objects.filter(store=store).count() >= MAX_ENDPOINTS:
        raise ServiceError("too_many_endpoints",
                           f"A store can have at most {MAX_ENDPOINTS} webhook endpoints.")
    endpoint = WebhookEndpoint.objects.create(
        store=store, url=url, events=events, all_events=all_events, description=description,
        format=fmt, secret=new_secret())
    audit_record(store=store, actor=actor, action="webhook.created", obj=endpoint,
                 details={"url": url, "events": events, "all_events": all_events,
                          "format": fmt})
    return endpoint


@transaction.atomic
def endpoint_update(*, store: Store, actor: Actor, endpoint: WebhookEndpoint, url: str,
                    events: list[str], all_events: bool, description: str, format: str,
                    is_active: bool) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, store=store)
    url = endpoint.url if url == endpoint.url else clean_url(url)
    endpoint.url = url
    endpoint.events = _clean_events(events, all_events)
    endpoint.all_events = all_events
    endpoint.description = _clean_description(description)
    endpoint.format = _clean_format(format)
    now = timezone.now()
    if is_active and not endpoint.is_active:
        # Re-enabled: a fresh start for the 5-day failure rule, pending deliveries resume.
        endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since = "", None, None
    elif not is_active and endpoint.is_active:
        endpoint.disabled_reason = WebhookEndpoint.DisabledReason.MANUAL
        endpoint.disabled_at = now
    endpoint.is_active = is_active
    endpoint.updated_at = now
    endpoint.save()
    audit_record(store=store, actor=actor, action="webhook.updated", obj=endpoint,
                 details={"url": endpoint.url, "events": endpoint.events,
                          "all_events": endpoint.all_events, "format": endpoint.format,
                          "is_active": is_active})
    return endpoint


@transaction.atomic
def endpoint_delete(*, store: Store, actor: Actor, endpoint: WebhookEndpoint) -> None:
    audit_record(store=store, actor=actor, action="webhook.deleted", obj=endpoint,
                 details={"url": endpoint.url})
    WebhookEndpoint.objects.filter(pk=endpoint.pk, store=store).delete()


@transaction.atomic
def endpoint_rotate_secret(*, store: Store, actor: Actor,
                           endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """The old secret keeps signing (beside the new one) for 24 hours."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, store=store)
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + SECRET_OVERLAP
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    endpoint.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret",
                                 "updated_at"])
    audit_record(store=store, actor=actor, action="webhook.secret_rotated", obj=endpoint)
    return endpoint


@transaction.atomic
def endpoint_reveal_secret(*, store: Store, actor: Actor, endpoint: WebhookEndpoint) -> str:
    """Showing a signing secret is worth an audit row: who saw it, and when."""
    audit_record(store=store, actor=actor, action="webhook.secret_revealed", obj=endpoint)
    return endpoint.secret


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str, now: datetime,
                     detail: str = "") -> bool:
    """Called by the dispatcher (410 Gone, or 5 days of failures). Returns False when the
    endpoint was already disabled, so the owner is told once."""
    from shopkeep.webhooks.tasks import notify_endpoint_disabled

    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_reason=reason, disabled_at=now, updated_at=now)
    if not changed:
        return False
    audit_record(store=endpoint.store, actor=Actor.system("webhook dispatcher"),
                 action="webhook.disabled", obj=endpoint,
                 details={"reason": reason, "detail": detail[:300]})
    notify_endpoint_disabled.enqueue(endpoint.pk)
    return True


@transaction.atomic
def webhook_test_send(*, store: Store, actor: Actor, endpoint: WebhookEndpoint,
                      event_type: str) -> WebhookDelivery:
    """A sample payload of ``event_type`` with ``"test": true``, sent by the dispatcher and
    logged like any other delivery (even to a disabled endpoint: testing is how one finds
    out whether it works again)."""
    if not is_known(event_type):
        raise ServiceError("invalid_event_type", f"Unknown event type {event_type[:64]!r}.",
                           field="event_type")
    now = timezone.now()
    delivery = WebhookDelivery(store=store, endpoint=endpoint, event_type=event_type,
                               is_test=True, next_attempt_at=now, created_at=now)
    data = sample_data(event_type, now=now, tenant_id=store.public_id, currency=store.currency)
    delivery.body = render_body(fmt=endpoint.format, store=store,
                                delivery_id=delivery.public_id, event_type=event_type,
                                created_at=now, data=data, test=True)
    delivery.save()
    audit_record(store=store, actor=actor, action="webhook.test_sent", obj=endpoint,
                 details={"event_type": event_type, "delivery": delivery.public_id})
    return delivery


def _reopen(qs, now: datetime) -> int:
    # Same id and body, a fresh retry schedule; any lease is dropped so it goes out now.
    return qs.update(status=WebhookDelivery.Status.PENDING, next_attempt_at=now, retry_step=0,
                     completed_at=None, lease_token="", lease_until=None)


@transaction.atomic
def delivery_redeliver(*, store: Store, actor: Actor,
                       delivery: WebhookDelivery) -> WebhookDelivery:
    if delivery.store_id != store.pk:
        raise ServiceError("not_found", "Not found.", status=404)
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise ServiceError("already_pending", "This delivery is already waiting to be sent.",
                           status=409)
    _reopen(WebhookDelivery.objects.filter(pk=delivery.pk), timezone.now())
    audit_record(store=store, actor=actor, action="webhook.redelivered", obj=delivery.endpoint,
                 details={"delivery": delivery.public_id})
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def deliveries_redeliver_failed(*, store: Store, actor: Actor, endpoint: WebhookEndpoint,
                                since: datetime) -> int:
    if timezone.is_naive(since):
        raise ServiceError("invalid_since", "The time needs a time zone.", field="since")
    count = _reopen(WebhookDelivery.objects.filter(
        store=store, endpoint=endpoint, status=WebhookDelivery.Status.FAILED,
        created_at__gte=since), timezone.now())
    audit_record(store=store, actor=actor, action="webhook.redelivered_failed", obj=endpoint,
                 details={"since": since.isoformat(), "count": count})
    return count


def deliveries_prune(*, now: datetime | None = None) -> int:
    """Remove deliveries (and their attempts) older than the retention setting."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    total = 0
    while True:
        # In slices, so one daily run never holds a huge delete in one transaction.
        ids = list(WebhookDelivery.objects.filter(created_at__lt=cutoff)
                   .values_list("pk", flat=True)[:1000])
        if not ids:
            return total
        WebhookDelivery.objects.filter(pk__in=ids).delete()
        total += len(ids)
