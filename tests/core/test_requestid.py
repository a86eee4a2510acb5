"""The request id: set per request, answered in X-Request-ID, carried into the tasks a
request enqueues, the events it emits and their webhook deliveries; JSON log lines."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shopkeep.core import requestid
from shopkeep.core.worker import run_worker
from shopkeep.events.models import Event
from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor
from shopkeep.webhooks import queue
from shopkeep.webhooks.models import WebhookDelivery
from shopkeep.webhooks.services import endpoint_create
from tests.core.request_id_tasks import which_request
from tests.factories import make_store

pytestmark = pytest.mark.django_db
DELETED = {"product_id": 1, "name": "Sword", "slug": "sword",
           "deleted_at": "2025-01-22T09:00:00.000000Z"}


def test_every_answer_names_its_request_id():
    first = Client().get("/healthz")["X-Request-ID"]
    second = Client().get("/healthz")["X-Request-ID"]
    assert requestid.ACCEPTED.fullmatch(first) and first != second


def test_a_proxy_given_id_is_kept_and_a_hostile_one_replaced():
    kept = Client().get("/healthz", headers={"X-Request-ID": "lb-1234567890abcdef"})
    assert kept["X-Request-ID"] == "lb-1234567890abcdef"
    hostile = Client().get("/healthz", headers={"X-Request-ID": 'x" level=ERROR\\n' * 9})
    assert hostile["X-Request-ID"] != 'x" level=ERROR\\n' * 9
    assert requestid.ACCEPTED.fullmatch(hostile["X-Request-ID"])


def test_agent_answers_carry_no_request_id_header():
    # The lean path answers the same bytes as Django (tests/delivery/test_fastpath.py).
    response = Client().get("/api/v1/agent/commands/pending")
    assert response.status_code == 401
    assert "X-Request-ID" not in response


# Transactional: the worker renews its lease from a second thread (its own connection).
@pytest.mark.django_db(transaction=True)
def test_a_task_runs_under_the_id_of_the_request_that_enqueued_it():
    with requestid.bound("req-task-0001"):
        which_request.enqueue()
    row = DBTaskResult.objects.get()
    assert row.args_kwargs["request_id"] == "req-task-0001"
    run_worker(batch=True, handle_signals=False)
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL"
    assert row.return_value == "req-task-0001"


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_outside_a_request_gets_an_id_of_its_own():
    which_request.enqueue()
    assert "request_id" not in DBTaskResult.objects.get().args_kwargs
    run_worker(batch=True, handle_signals=False)
    assert requestid.ACCEPTED.fullmatch(DBTaskResult.objects.get().return_value)


def test_events_and_their_webhook_deliveries_carry_the_request_id(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    store = make_store()
    endpoint_create(store=store, actor=Actor.system(), url="http://127.0.0.1:9/hook",
                    events=["product.deleted"])
    with requestid.bound("req-event-0001"), transaction.atomic():
        emit(store=store, event_type="product.deleted", data=DELETED)
    assert Event.objects.get().request_id == "req-event-0001"
    queue.fanout(now=timezone.now())
    assert WebhookDelivery.objects.get().request_id == "req-event-0001"
    jobs = queue.claim(now=timezone.now(), limit=10, room={}, default_room=8)
    assert [job.request_id for job in jobs] == ["req-event-0001"]


def test_json_log_lines_carry_the_request_and_task_ids():
    record = logging.LogRecord("shopkeep.test", logging.WARNING, __file__, 1,
                               "refund %s failed", ("rf_1",), None)
    record.order_id = 42
    with requestid.bound("req-log-00001", task_id="t-1"):
        requestid.ContextFilter().filter(record)
    line = json.loads(requestid.JsonFormatter().format(record))
    assert line["message"] == "refund rf_1 failed"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "req-log-00001"
    assert line["task_id"] == "t-1"
    assert line["order_id"] == 42
    assert line["ts"].endswith("Z")


def test_an_explicit_request_id_wins_over_the_context():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    record.request_id = "req-given-0001"
    with requestid.bound("req-context-01"):
        requestid.ContextFilter().filter(record)
    assert record.request_id == "req-given-0001"
