"""The dispatcher's database side: fan events out, claim due deliveries, record results.

Everything here is synchronous and short; the async dispatcher calls it through
``sync_to_async``. Claims are safe across any number of dispatcher processes:

- On PostgreSQL the candidate rows are read with ``FOR UPDATE SKIP LOCKED``, so two claimers
  never even see the same row.
- Everywhere (SQLite included) the claim is a conditional UPDATE that stamps a fresh lease
  token only on rows still due and unleased, and the claimer then takes only the rows carrying
  its token.

A lease (120 s) outlives the longest wait in a dispatcher's queue plus the longest
exchange (45 s + 15 s). A dispatcher that dies
mid-send never records the attempt; when the lease runs out another dispatcher sends the
same delivery again, same id and same body.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q

from shopkeep.events.models import Event
from shopkeep.webhooks import schedule
from shopkeep.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shopkeep.webhooks.payloads import render_body

LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class Job:
    delivery_pk: int
    delivery_id: str
    event_type: str
    body: str
    is_test: bool
    endpoint_pk: int
    url: str
    format: str
    secrets: tuple[str, ...]
    attempt_number: int
    retry_step: int
    lease_token: str
    request_id: str = ""


@dataclass
class Outcome:
    started_at: datetime
    duration_ms: int
    request_headers: dict[str, str]
    status_code: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    error: str = ""
    retry_after: timedelta | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def fanout(*, now: datetime, limit: int = 500) -> int:
    """Turn undispatched events into one delivery per subscribed active endpoint.

    An endpoint receives exactly the event names it subscribed to. Legacy names
    (``purchase.completed``, ``order.created``, ...) are their own event rows, emitted where
    seed 002 says they fire, so a legacy subscriber gets them under the legacy name with
    ``order.received``'s structure; "all events" means the 17 current names only, so nobody
    receives the same purchase twice by accident.
    """
    with transaction.atomic():
        events = list(Event.objects.select_for_update(skip_locked=True)
                      .filter(dispatched_at__isnull=True).select_related("store")
                      .order_by("id")[:limit])
        if not events:
            return 0
        endpoints: dict[int, list[WebhookEndpoint]] = defaultdict(list)
        for endpoint in WebhookEndpoint.objects.filter(
                store_id__in={e.store_id for e in events}, is_active=True):
            endpoints[endpoint.store_id].append(endpoint)
        deliveries = []
        for event in events:
            for endpoint in endpoints.get(event.store_id, ()):
                if not endpoint.subscribes_to(event.event_type):
                    continue
                delivery = WebhookDelivery(store_id=event.store_id, endpoint=endpoint,
                                           event=event, event_type=event.event_type,
                                           next_attempt_at=now, created_at=now,
                                           request_id=event.request_id)
                delivery.body = render_body(
                    fmt=endpoint.format, store=event.store, delivery_id=delivery.public_id,
                    event_type=event.event_type, created_at=event.created_at, data=event.data)
                deliveries.append(delivery)
        WebhookDelivery.objects.bulk_create(deliveries, batch_size=500)
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
    return len(events)


def _due(now: datetime) -> Q:
    return (Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            & (Q(endpoint__is_active=True) | Q(is_test=True)))


def claim(*, now: datetime, limit: int, room: dict[int, int], default_room: int) -> list[Job]:
    """Lease up to ``limit`` due deliveries, at most ``room[endpoint]`` (else
    ``default_room``) per endpoint, so a slow endpoint's backlog never fills the batch."""
    if limit <= 0:
        return []
    full = [pk for pk, free in room.items() if free <= 0]
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(now)).exclude(endpoint_id__in=full)
            .order_by("next_attempt_at").values_list("pk", "endpoint_id")[:limit * 2])
        taken: dict[int, int] = defaultdict(int)
        chosen = []
        for pk, endpoint_id in candidates:
            if len(chosen) >= limit:
                break
            if taken[endpoint_id] < room.get(endpoint_id, default_room):
                taken[endpoint_id] += 1
                chosen.append(pk)
        if not chosen:
            return []
        WebhookDelivery.objects.filter(Q(pk__in=chosen) & _due(now)).update(
            lease_token=token, lease_until=now + LEASE)
    rows = WebhookDelivery.objects.filter(pk__in=chosen, lease_token=token).values(
        "pk", "public_id", "event_type", "body", "is_test", "endpoint_id", "attempt_count",
        "retry_step", "endpoint__url", "endpoint__format", "endpoint__secret",
        "endpoint__previous_secret", "endpoint__previous_secret_expires_at", "request_id")
    jobs = []
    for d in rows:
        # Plain values, not model instances: claims run many times a second. The previous
        # secret signs too until its 24 hours of overlap are over.
        secrets = [d["endpoint__secret"]]
        expires = d["endpoint__previous_secret_expires_at"]
        if d["endpoint__previous_secret"] and expires and expires > now:
            secrets.append(d["endpoint__previous_secret"])
        jobs.append(Job(delivery_pk=d["pk"], delivery_id=d["public_id"],
                        event_type=d["event_type"], body=d["body"], is_test=d["is_test"],
                        endpoint_pk=d["endpoint_id"], url=d["endpoint__url"],
                        format=d["endpoint__format"], secrets=tuple(secrets),
                        attempt_number=d["attempt_count"] + 1, retry_step=d["retry_step"],
                        lease_token=token, request_id=d["request_id"]))
    return jobs


def record(*, results: list[tuple[Job, Outcome]], now: datetime,
           rng: random.Random) -> list[tuple[int, str, str]]:
    """Write the attempts and move each delivery on. Returns the endpoints to disable as
    (pk, reason, detail); the caller disables them in their own transactions."""
    Status = WebhookDelivery.Status
    to_disable: list[tuple[int, str, str]] = []
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create([
            WebhookAttempt(delivery_id=job.delivery_pk, number=job.attempt_number,
                           started_at=out.started_at, duration_ms=out.duration_ms, url=job.url,
                           request_headers=out.request_headers,
                           response_status=out.status_code,
                           response_headers=out.response_headers,
                           response_body=out.response_body, error=out.error[:500],
                           succeeded=out.succeeded)
            for job, out in results], batch_size=500)
        # Successes share their new state: one UPDATE per (lease, status code).
        groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
        ok_endpoints, failed_endpoints = set(), set()
        for job, out in results:
            mine = WebhookDelivery.objects.filter(pk=job.delivery_pk, lease_token=job.lease_token)
            if out.succeeded:
                groups[(job.lease_token, out.status_code)].append(job.delivery_pk)
                if not job.is_test:
                    ok_endpoints.add(job.endpoint_pk)
                continue
            gone = out.status_code == 410 and not job.is_test
            nxt = None if gone else schedule.next_attempt_at(
                step=job.retry_step, now=now, rng=rng, retry_after=out.retry_after)
            mine.update(
                status=Status.PENDING if nxt else Status.FAILED, next_attempt_at=nxt,
                retry_step=F("retry_step") + 1, attempt_count=F("attempt_count") + 1,
                completed_at=None if nxt else now, last_status_code=out.status_code,
                last_error=out.error[:500], lease_token="", lease_until=None)
            if gone:
                to_disable.append((job.endpoint_pk, WebhookEndpoint.DisabledReason.GONE,
                                   "410 Gone"))
            elif not job.is_test:
                failed_endpoints.add(job.endpoint_pk)
        for (token, code), pks in groups.items():
            WebhookDelivery.objects.filter(pk__in=pks, lease_token=token).update(
                status=Status.SUCCEEDED, next_attempt_at=None, completed_at=now,
                attempt_count=F("attempt_count") + 1, last_status_code=code, last_error="",
                lease_token="", lease_until=None)
        # The failure streak: any success ends it; the first failure after one starts it.
        WebhookEndpoint.objects.filter(pk__in=ok_endpoints, failing_since__isnull=False).update(
            failing_since=None)
        failed_endpoints -= ok_endpoints
        WebhookEndpoint.objects.filter(pk__in=failed_endpoints, failing_since__isnull=True
                                       ).update(failing_since=now)
        for pk in WebhookEndpoint.objects.filter(
                pk__in=failed_endpoints, is_active=True,
                failing_since__lte=now - schedule.FAILING_DISABLE_AFTER).values_list("pk",
                                                                                       flat=True):
            to_disable.append((pk, WebhookEndpoint.DisabledReason.FAILING,
                               "every delivery failed for 5 days"))
    return to_disable


def backlog(*, now: datetime) -> bool:
    """Anything to do right now: events to fan out or deliveries due."""
    return (Event.objects.filter(dispatched_at__isnull=True).exists()
            or WebhookDelivery.objects.filter(_due(now)).exists())
