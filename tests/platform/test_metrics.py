"""/metrics: who may read it, what it counts, and that routes are patterns, not paths."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from shopkeep.core.heartbeat import Beater
from shopkeep.core.models import ProcessBeat
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.events.services import emit
from shopkeep.platform import collector
from shopkeep.platform.tasks import prune_heartbeats
from shopkeep.stores.audit import Actor
from shopkeep.webhooks import queue
from shopkeep.webhooks.models import WebhookDelivery
from shopkeep.webhooks.services import endpoint_create
from tests.commerce import paid_order
from tests.delivery.conftest import world  # noqa: F401  (fixture)
from tests.factories import make_store, make_user

pytestmark = pytest.mark.django_db
TOKEN = "m" * 32


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setattr(collector, "CACHE_SECONDS", 0)


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    client = client or Client(REMOTE_ADDR="127.0.0.1")
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_loopback_reads_metrics_without_a_token_in_development():
    assert value(scrape(), "shopkeep_database_up") == 1


def test_other_addresses_are_refused_without_a_token():
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "loopback_only"


def test_a_configured_token_is_required_even_on_loopback(settings):
    settings.SHOPKEEP_METRICS_TOKEN = TOKEN
    client = Client(REMOTE_ADDR="127.0.0.1")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 32})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    assert scrape(Client(REMOTE_ADDR="203.0.113.9"), Authorization=f"Bearer {TOKEN}")


def test_production_without_a_token_publishes_nothing(settings):
    settings.PRODUCTION = True
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "metrics_token_required"
    assert b"shopkeep_" not in response.content


def test_routes_are_labelled_by_url_pattern_never_by_raw_path():
    client = Client(REMOTE_ADDR="127.0.0.1")
    client.get("/s/no-such-store-1234/")
    client.get("/this/path/does/not/exist/987654")
    text = client.get("/metrics").content.decode()
    assert "no-such-store-1234" not in text
    assert "987654" not in text
    samples = scrape(client)
    assert value(samples, "shopkeep_http_requests_total", route="<unmatched>", method="GET",
                 status="404") >= 1
    assert any(name == "shopkeep_http_requests_total" and dict(labels).get("route", "")
               .startswith("s/<") for name, labels in samples)


def test_latency_histogram_counts_each_request():
    client = Client(REMOTE_ADDR="127.0.0.1")
    before = value(scrape(client), "shopkeep_http_request_duration_seconds_count",
                   route="healthz", method="GET")
    client.get("/healthz")
    client.get("/healthz")
    after = value(scrape(client), "shopkeep_http_request_duration_seconds_count",
                  route="healthz", method="GET")
    assert after - before == 2


def test_agent_polls_answered_by_django_are_counted(world):  # noqa: F811
    before = value(scrape(), "shopkeep_agent_polls_total", answered_by="django", status="200")
    assert world["agent"].pending().status_code == 200
    after = value(scrape(), "shopkeep_agent_polls_total", answered_by="django", status="200")
    assert after - before == 1


def test_failed_sign_ins_are_counted():
    make_user("owner@example.com")
    before = value(scrape(), "shopkeep_login_failures_total")
    Client().post("/accounts/login/", {"login": "owner@example.com", "password": "wrong-one!"})
    assert value(scrape(), "shopkeep_login_failures_total") - before == 1


def test_commands_by_state_and_the_age_of_the_oldest_pending(world,  # noqa: F811
                                                           django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"],
                       capture=django_capture_on_commit_callbacks)
    command = DeliveryCommand.objects.get(order=order)
    DeliveryCommand.objects.filter(pk=command.pk).update(
        created_at=timezone.now() - timedelta(minutes=5))
    samples = scrape()
    assert value(samples, "shopkeep_delivery_commands", state="pending") == 1
    assert value(samples, "shopkeep_delivery_commands", state="completed") == 0
    assert 290 < value(samples, "shopkeep_delivery_oldest_pending_age_seconds") < 400
    DeliveryCommand.objects.filter(pk=command.pk).update(status="completed")
    samples = scrape()
    assert value(samples, "shopkeep_delivery_commands", state="completed") == 1
    assert value(samples, "shopkeep_delivery_oldest_pending_age_seconds") == 0


def test_webhook_backlog_and_its_age(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    store = make_store()
    endpoint_create(store=store, actor=Actor.system(), url="http://127.0.0.1:9/hook",
                    events=["product.deleted"])
    with transaction.atomic():
        emit(store=store, event_type="product.deleted", data={
            "product_id": 1, "name": "Sword", "slug": "sword",
            "deleted_at": "2025-01-22T09:00:00.000000Z"})
    queue.fanout(now=timezone.now() - timedelta(minutes=3))
    samples = scrape()
    assert value(samples, "shopkeep_webhook_backlog") == 1
    assert value(samples, "shopkeep_webhook_deliveries", outcome="pending") == 1
    assert 170 < value(samples, "shopkeep_webhook_backlog_age_seconds") < 300
    WebhookDelivery.objects.update(status="succeeded")
    samples = scrape()
    assert value(samples, "shopkeep_webhook_backlog") == 0
    assert value(samples, "shopkeep_webhook_deliveries", outcome="succeeded") == 1


def test_task_queue_depth_counts_ready_tasks():
    before = value(scrape(), "shopkeep_task_queue_depth", queue="default")
    prune_heartbeats.enqueue()
    prune_heartbeats.enqueue()
    assert value(scrape(), "shopkeep_task_queue_depth", queue="default") - before == 2
    DBTaskResult.objects.update(status="SUCCESSFUL")
    assert value(scrape(), "shopkeep_task_queue_depth", queue="default") == 0


def test_process_heartbeats_show_live_and_stale_processes():
    Beater("worker", "worker:a").beat()
    Beater("dispatcher", "dispatcher:b").beat()
    ProcessBeat.objects.filter(instance="dispatcher:b").update(
        beat_at=timezone.now() - timedelta(minutes=10))
    samples = scrape()
    assert value(samples, "shopkeep_processes_live", kind="worker") == 1
    assert value(samples, "shopkeep_processes_live", kind="dispatcher") == 0
    assert value(samples, "shopkeep_process_heartbeat_age_seconds", kind="dispatcher") > 590


def test_a_stopped_process_removes_its_heartbeat_and_old_ones_are_pruned():
    beater = Beater("scheduler", "scheduler:x")
    beater.beat()
    beater.stop()
    assert not ProcessBeat.objects.exists()
    Beater("worker", "worker:old").beat()
    ProcessBeat.objects.update(beat_at=timezone.now() - timedelta(days=2))
    Beater("worker", "worker:new").beat()
    assert prune_heartbeats.call() == 1
    assert list(ProcessBeat.objects.values_list("instance", flat=True)) == ["worker:new"]


def test_a_database_outage_is_reported_not_raised(monkeypatch):
    from django.db import OperationalError

    def down(**_):
        raise OperationalError("connection refused")

    monkeypatch.setattr(collector.signals, "read", down)
    samples = scrape()
    assert value(samples, "shopkeep_database_up") == 0
    assert not any(name == "shopkeep_delivery_commands" for name, _ in samples)


@pytest.mark.django_db(transaction=True)
def test_several_web_processes_are_summed_in_multiprocess_mode(tmp_path):
    """Two processes count into one PROMETHEUS_MULTIPROC_DIR; a third one's scrape sums
    their counters and live-sums the held long-polls of the processes still running."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = textwrap.dedent("""
        import sys
        from shopkeep.core import metrics
        metrics.POLLS_MEMORY_304.inc(int(sys.argv[1]))
        metrics.AGENT_LONG_POLLS_HELD.inc(int(sys.argv[1]))
        metrics.HTTP_LATENCY.labels(route="healthz", method="GET").observe(0.01)
    """)
    for n in ("3", "4"):
        subprocess.run([sys.executable, "-c", count, n], env=env, check=True, timeout=60)
    read = textwrap.dedent("""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        print(generate_latest(registry).decode())
    """)
    out = subprocess.run([sys.executable, "-c", read], env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout
    samples = {}
    for family in text_string_to_metric_families(out):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert value(samples, "shopkeep_agent_polls_total", answered_by="memory",
                 status="304") == 7
    assert value(samples, "shopkeep_http_request_duration_seconds_count", route="healthz",
                 method="GET") == 2
    # Both writers exited without mark_process_dead (as after SIGKILL): livesum keeps what
    # their files say; docs/operations.md says so and `shopkeep serve` empties the directory.
    assert value(samples, "shopkeep_agent_long_polls_held") == 7
