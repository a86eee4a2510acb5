"""The dispatcher against a real receiver: retry schedule on an injected clock, Retry-After,
410, the 5-day disable rule, response handling, per-endpoint bounds, leases, redelivery and
retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from shopkeep.core.scheduler import registered_jobs
from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor
from shopkeep.webhooks import dispatcher as dispatcher_module
from shopkeep.webhooks import queue
from shopkeep.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shopkeep.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS
from shopkeep.webhooks.services import (
    deliveries_prune,
    deliveries_redeliver_failed,
    delivery_redeliver,
    endpoint_create,
)
from shopkeep.webhooks.tasks import notify_endpoint_disabled
from tests.factories import owner_of
from tests.webhooks.conftest import dispatch
from tests.webhooks.receiver import HANG

pytestmark = pytest.mark.django_db

DATA = {"product_id": 103, "name": "Diamond Sword", "slug": "diamond-sword",
        "deleted_at": "2025-01-22T09:00:00.000000Z"}


def _endpoint(store, url, **kwargs):
    return endpoint_create(store=store, actor=Actor.system(), url=url,
                           events=kwargs.pop("events", ["product.deleted"]), **kwargs)


def _emit(store, n=1):
    with transaction.atomic():
        for _ in range(n):
            emit(store=store, event_type="product.deleted", data=DATA)


def test_failures_follow_the_schedule_with_jitter_and_never_come_early(store, receiver, clock):
    _endpoint(store, receiver.url())
    receiver.respond("/hook", *[500] * MAX_ATTEMPTS)
    _emit(store)
    dispatch(clock)
    assert len(receiver.requests) == 2  # the first attempt and the retry "at once"
    ratios = []
    for step, base in enumerate(RETRY_DELAYS[1:], start=1):
        delivery = WebhookDelivery.objects.get()
        # retry_step counts retries scheduled so far: this wait is RETRY_DELAYS[step].
        assert delivery.status == "pending" and delivery.retry_step == step + 1
        wait = delivery.next_attempt_at - clock.now
        ratios.append(wait / base)
        assert base * 0.8 <= wait <= base * 1.2
        clock.now = delivery.next_attempt_at - timedelta(milliseconds=1)
        dispatch(clock)
        assert len(receiver.requests) == step + 1  # not a millisecond early
        clock.now = delivery.next_attempt_at
        dispatch(clock)
        assert len(receiver.requests) == step + 2
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (
        "failed", MAX_ATTEMPTS, None)
    assert list(delivery.attempts.values_list("number", flat=True)) == list(
        range(1, MAX_ATTEMPTS + 1))
    assert len({round(r, 6) for r in ratios}) > 1  # jittered, not the bare schedule
    clock.advance(days=3)
    dispatch(clock)
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_retry_after_pushes_the_next_attempt_later_within_bounds(store, receiver, clock):
    _endpoint(store, receiver.url())
    receiver.respond("/hook", (503, {"Retry-After": "120"}, b"busy"),
                     (429, {"Retry-After": "99999999"}, b"slow down"))
    _emit(store)
    dispatch(clock)
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at - clock.now == timedelta(seconds=120)
    clock.now = delivery.next_attempt_at
    dispatch(clock)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - clock.now == timedelta(hours=10)  # capped
    assert delivery.last_status_code == 429


def test_discord_429_retry_after_in_the_body_is_honoured(store, receiver, clock):
    _endpoint(store, receiver.url("/discord"), format=WebhookEndpoint.Format.DISCORD)
    receiver.respond("/discord", (429, {"Content-Type": "application/json"},
                                  b'{"message": "You are being rate limited.", '
                                  b'"retry_after": 2.5, "global": false}'))
    _emit(store)
    dispatch(clock)
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at - clock.now == timedelta(seconds=2.5)
    clock.now = delivery.next_attempt_at
    dispatch(clock)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(receiver.requests) == 2


def test_410_gone_disables_the_endpoint_and_tells_the_owner(store, receiver, mailoutbox):
    endpoint = _endpoint(store, receiver.url())
    receiver.respond("/hook", 410)
    _emit(store)
    dispatch()
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "gone")
    assert WebhookDelivery.objects.get().status == "failed"  # no retries after 410
    _emit(store)
    dispatch()
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.count() == 1
    (task,) = DBTaskResult.objects.all()
    assert task.task_path.endswith("notify_endpoint_disabled")
    assert notify_endpoint_disabled.call(endpoint.pk) == 1
    (mail,) = mailoutbox
    assert mail.to == [owner_of(store).email] and endpoint.url in mail.body


def test_five_days_of_failures_disable_the_endpoint_and_show_a_banner(store, receiver, clock,
                                                                      client):
    endpoint = _endpoint(store, receiver.url())
    receiver.respond("/hook", *[500] * 40)
    start = clock.now
    _emit(store)
    dispatch(clock)
    endpoint.refresh_from_db()
    assert endpoint.failing_since == start and endpoint.is_active
    clock.advance(days=4, hours=23)
    _emit(store)
    dispatch(clock)
    endpoint.refresh_from_db()
    assert endpoint.is_active
    clock.advance(hours=2)
    _emit(store)
    dispatch(clock)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "failing")
    assert DBTaskResult.objects.count() == 1
    client.force_login(owner_of(store))
    page = client.get(reverse("dashboard:overview", args=[store.slug]))
    assert b"webhooks-disabled-banner" in page.content and endpoint.url.encode() in page.content


def test_a_success_ends_the_failure_streak(store, receiver, clock):
    endpoint = _endpoint(store, receiver.url())
    receiver.respond("/hook", 500, 500)
    _emit(store)
    dispatch(clock)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    clock.advance(seconds=10)
    dispatch(clock)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_only_4kb_of_the_response_is_kept_and_redirects_are_not_followed(store, receiver):
    _endpoint(store, receiver.url("/big"))
    _endpoint(store, receiver.url("/moved"))
    receiver.respond("/big", (200, {}, b"x" * 10_000))
    receiver.respond("/moved", *[(302, {"Location": receiver.url("/elsewhere")}, b"")] * 2)
    _emit(store)
    dispatch()
    big = WebhookAttempt.objects.get(url__endswith="/big")
    assert big.response_body == "x" * 4096 and big.succeeded
    moved = WebhookAttempt.objects.filter(url__endswith="/moved").first()
    assert moved.response_status == 302 and not moved.succeeded
    assert receiver.on("/elsewhere") == []
    assert WebhookDelivery.objects.get(endpoint__url__endswith="/moved").status == "pending"


def test_an_endpoint_that_never_answers_times_out_and_is_retried(store, receiver,
                                                                 monkeypatch):
    monkeypatch.setattr(dispatcher_module, "TOTAL_TIMEOUT", 0.5)
    _endpoint(store, receiver.url("/slow"))
    receiver.respond("/slow", HANG)
    _emit(store)
    dispatch()
    first, second = WebhookAttempt.objects.order_by("number")
    assert first.error.startswith("timed out") and first.response_status is None
    assert second.succeeded  # the retry "at once" got the default 200


def test_a_dead_endpoint_holds_only_its_own_slots(store, receiver, monkeypatch):
    monkeypatch.setattr(dispatcher_module, "TOTAL_TIMEOUT", 3)
    dead = _endpoint(store, receiver.url("/dead"))
    live = _endpoint(store, receiver.url("/live"))
    receiver.respond("/dead", HANG, HANG)
    _emit(store, 20)
    dispatch(per_endpoint=2)
    assert WebhookDelivery.objects.filter(endpoint=live, status="succeeded").count() == 20
    assert WebhookDelivery.objects.filter(endpoint=dead, status="succeeded").count() == 20
    first_dead_end = min(a.started_at + timedelta(milliseconds=a.duration_ms)
                         for a in WebhookAttempt.objects.filter(delivery__endpoint=dead))
    # While two requests hung, nothing else went to the dead endpoint, and the live one got
    # everything through.
    assert WebhookAttempt.objects.filter(delivery__endpoint=dead,
                                         started_at__lt=first_dead_end).count() == 2
    assert WebhookAttempt.objects.filter(delivery__endpoint=live,
                                         started_at__gte=first_dead_end).count() == 0


def test_a_leased_delivery_is_not_claimed_again_until_the_lease_runs_out(store, receiver,
                                                                         clock):
    """A dispatcher that dies after claiming never records anything; its lease expires and
    the next dispatcher sends the same delivery, same id and body."""
    _endpoint(store, receiver.url())
    _emit(store)
    queue.fanout(now=clock.now)
    (job,) = queue.claim(now=clock.now, limit=10, room={}, default_room=8)
    assert queue.claim(now=clock.now, limit=10, room={}, default_room=8) == []
    dispatch(clock)
    assert receiver.requests == []
    clock.now += queue.LEASE + timedelta(seconds=1)
    dispatch(clock)
    (request,) = receiver.requests
    assert request.header("X-Webhook-ID") == job.delivery_id
    assert request.body.decode() == job.body
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_a_result_recorded_after_losing_the_lease_does_not_overwrite_the_new_claim(store,
                                                                                 receiver,
                                                                                 clock):
    _endpoint(store, receiver.url())
    _emit(store)
    queue.fanout(now=clock.now)
    (stale,) = queue.claim(now=clock.now, limit=10, room={}, default_room=8)
    later = clock.now + queue.LEASE + timedelta(seconds=1)
    (fresh,) = queue.claim(now=later, limit=10, room={}, default_room=8)
    assert fresh.delivery_id == stale.delivery_id and fresh.lease_token != stale.lease_token
    failed = queue.Outcome(started_at=clock.now, duration_ms=1, request_headers={},
                           status_code=500, error="HTTP 500")
    queue.record(results=[(stale, failed)], now=later, rng=__import__("random").Random(1))
    delivery = WebhookDelivery.objects.get()
    assert delivery.lease_token == fresh.lease_token and delivery.attempt_count == 0
    assert delivery.attempts.count() == 1  # the stale attempt is still logged


def test_redeliver_one_sends_the_same_id_again_with_a_fresh_schedule(store, receiver):
    _endpoint(store, receiver.url())
    receiver.respond("/hook", *[500] * 2)
    _emit(store)
    dispatch()
    delivery = WebhookDelivery.objects.get()
    # Give up at once for the test: the schedule is covered above.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    delivery.refresh_from_db()
    delivery = delivery_redeliver(store=store, actor=Actor.system(), delivery=delivery)
    assert (delivery.status, delivery.retry_step) == ("pending", 0)
    dispatch()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempt_count == 3
    assert {r.header("X-Webhook-ID") for r in receiver.requests} == {delivery.public_id}


def test_redeliver_failed_since_a_time_reopens_only_those(store, receiver, clock):
    endpoint = _endpoint(store, receiver.url())
    other = _endpoint(store, receiver.url("/other"))
    _emit(store, 3)
    dispatch()
    old, newer, newest = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id")
    WebhookDelivery.objects.filter(endpoint__in=[endpoint, other]).update(status="failed")
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=clock.now - timedelta(days=2))
    WebhookDelivery.objects.filter(pk=newest.pk).update(status="succeeded")
    count = deliveries_redeliver_failed(store=store, actor=Actor.system(), endpoint=endpoint,
                                        since=clock.now - timedelta(days=1))
    assert count == 1
    assert list(WebhookDelivery.objects.filter(status="pending").values_list("pk", flat=True)
                ) == [newer.pk]


def test_retention_removes_deliveries_and_attempts_older_than_30_days(store, receiver, clock,
                                                                      settings):
    assert "webhooks.prune_deliveries" in registered_jobs()
    assert registered_jobs()["webhooks.prune_deliveries"].every == timedelta(days=1)
    _endpoint(store, receiver.url())
    _emit(store, 2)
    dispatch()
    old, new = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=clock.now - timedelta(days=31))
    assert deliveries_prune(now=clock.now) == 1
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [new.pk]
    assert WebhookAttempt.objects.filter(delivery_id=old.pk).count() == 0
    settings.WEBHOOK_RETENTION_DAYS = 1
    assert deliveries_prune(now=clock.now + timedelta(days=2)) == 1


def test_the_discord_embed_matches_the_seed_example(store, receiver):
    from shopkeep.webhooks.samples import SAMPLES

    _endpoint(store, receiver.url("/discord"), events=["order.received", "dispute.created",
                                                       "payment.failed"],
              format=WebhookEndpoint.Format.DISCORD)
    with transaction.atomic():
        for event_type in ("order.received", "dispute.created", "payment.failed"):
            emit(store=store, event_type=event_type, data=SAMPLES[event_type])
    dispatch()
    embeds = {}
    for request in receiver.on("/discord"):
        (embed,) = json.loads(request.body)["embeds"]
        embeds[embed["title"]] = embed
    order = embeds["🛒 New Order"]
    assert order["color"] == 2278621
    assert order["footer"] == {"text": "Shopkeep - Block Party"}
    assert order["fields"] == [
        {"name": "Order Number", "value": "ORD-A1B2C3D4E5", "inline": True},
        {"name": "Amount", "value": "USD 29.99", "inline": True},
        {"name": "Customer", "value": "player@example.com", "inline": False},
        {"name": "Items", "value": "- VIP Rank (x1)", "inline": False}]
    assert order["timestamp"].endswith("Z")
    dispute = embeds["⚖️ Dispute Opened"]
    assert dispute["color"] == 0xF97316 and {"name": "Amount", "value": "USD 29.99",
                                             "inline": True} in dispute["fields"]
    assert embeds["❌ Payment Failed"]["color"] == 0xEF4444


def test_the_dispatcher_command_runs_until_idle(store, receiver, transactional_db):
    from shopkeep.cli import main

    _endpoint(store, receiver.url())
    _emit(store)
    assert main(["dispatcher", "--until-idle", "--poll", "0.05"]) == 0
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_a_stopped_dispatcher_sends_nothing_more_and_queued_deliveries_stay_leased(
        store, receiver, monkeypatch):
    import asyncio

    from asgiref.sync import async_to_sync

    from shopkeep.webhooks.dispatcher import Dispatcher

    monkeypatch.setattr(dispatcher_module, "TOTAL_TIMEOUT", 0.5)
    _endpoint(store, receiver.url())
    receiver.respond("/hook", HANG)
    _emit(store, 4)

    async def scenario() -> None:
        stop = asyncio.Event()
        run = asyncio.create_task(Dispatcher(per_endpoint=1, poll_interval=0.02).run(stop=stop))
        while not receiver.got_request.is_set():
            await asyncio.sleep(0.01)
        stop.set()
        await run

    async_to_sync(scenario)()
    assert len(receiver.requests) == 1  # the slot finished its exchange, took nothing more
    sent = WebhookDelivery.objects.get(attempt_count=1)
    assert sent.attempts.get().error.startswith("timed out")
    waiting = WebhookDelivery.objects.exclude(pk=sent.pk)
    assert waiting.count() == 3
    assert all(d.lease_until is not None and d.attempt_count == 0 for d in waiting)
