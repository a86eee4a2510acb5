"""Dispatchers side by side on PostgreSQL: no delivery sent twice, none lost when one dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.db import connection, transaction
from django.utils import timezone

from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor
from shopkeep.webhooks.dispatcher import Dispatcher
from shopkeep.webhooks.models import WebhookAttempt, WebhookDelivery
from shopkeep.webhooks.queue import LEASE
from shopkeep.webhooks.services import endpoint_create
from tests.webhooks.conftest import Clock, dispatch
from tests.webhooks.receiver import HANG

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SRC = Path(__file__).resolve().parents[2] / "src"
DATA = {"product_id": 1, "name": "x", "slug": "x", "deleted_at": "2025-01-22T09:00:00.000000Z"}


def _emit(store, n: int) -> None:
    with transaction.atomic():
        for _ in range(n):
            emit(store=store, event_type="product.deleted", data=DATA)


def test_two_dispatchers_never_send_the_same_delivery_twice(store, receiver):
    for path in ("/a", "/b", "/c"):
        endpoint_create(store=store, actor=Actor.system(), url=receiver.url(path),
                        events=["product.deleted"])
    _emit(store, 200)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            async_to_sync(Dispatcher(poll_interval=0.02, batch=25).run_until_idle)()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    ids = Counter(r.header("X-Webhook-ID") for r in receiver.requests)
    assert len(ids) == WebhookDelivery.objects.count() == 600  # every event fanned out once
    assert set(ids.values()) == {1}
    assert WebhookAttempt.objects.count() == 600
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_dispatcher_killed_mid_send_loses_nothing_and_the_resend_keeps_the_id(store,
                                                                               receiver):
    endpoint_create(store=store, actor=Actor.system(), url=receiver.url(),
                    events=["product.deleted"])
    receiver.respond("/hook", HANG)
    _emit(store, 1)
    db = connection.settings_dict
    env = {**os.environ, "PYTHONPATH": str(SRC), "SHOPKEEP_WEBHOOK_ALLOW_PRIVATE": "1",
           "SHOPKEEP_DATABASE_URL": (f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/"
                                     f"{db['NAME']}")}
    child = subprocess.Popen([sys.executable, "-m", "shopkeep.cli", "dispatcher",
                              "--poll", "0.05"], env=env)
    try:
        assert receiver.got_request.wait(60), "the child dispatcher never sent"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    (first,) = receiver.requests
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.lease_until is not None
    assert not WebhookAttempt.objects.exists()  # it died before recording anything

    # Before the lease runs out nobody else takes it; afterwards the next dispatcher does.
    dispatch()
    assert len(receiver.requests) == 1
    dispatch(Clock(timezone.now() + LEASE + timedelta(seconds=1)))
    _, second = receiver.requests
    assert second.header("X-Webhook-ID") == first.header("X-Webhook-ID") == delivery.public_id
    assert second.body == first.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 1)
