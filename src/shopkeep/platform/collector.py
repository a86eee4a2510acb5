"""``/metrics``: the process's instruments (core/metrics.py) plus what the database knows
(signals.py), in the Prometheus text format.

Database figures are read at scrape time, so they are the same whichever process answers
and however many run. They are cached for a few seconds per process so that several
Prometheus servers (HA pairs) do not multiply the queries.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
import time

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as TEXT_CONTENT_TYPE
from prometheus_client.multiprocess import MultiProcessCollector

from shopkeep.platform import signals

logger = logging.getLogger("shopkeep.metrics")
# TEXT_CONTENT_TYPE is format 0.0.4: what every Prometheus (2.x and 3.x) and scraping agent
# parses, and our metric names need no escaping.
CACHE_SECONDS = 5.0


class DatabaseCollector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[float, signals.Readings | None] = (0.0, None)

    def readings(self) -> signals.Readings | None:
        with self._lock:
            at, value = self._cached
            if value is not None and time.monotonic() - at < CACHE_SECONDS:
                return value
            try:
                value = signals.read()
            except DatabaseError:
                logger.warning("metrics: the database did not answer", exc_info=True)
                value = None
            self._cached = (time.monotonic(), value)
            return value

    def collect(self):
        r = self.readings()
        up = GaugeMetricFamily("shopkeep_database_up",
                               "1 when the database answered this scrape's queries.")
        up.add_metric([], 0 if r is None else 1)
        yield up
        if r is None:
            return
        commands = GaugeMetricFamily("shopkeep_delivery_commands",
                                     "Delivery commands by state.", labels=["state"])
        for state, n in sorted(r.commands_by_state.items()):
            commands.add_metric([state], n)
        yield commands
        yield GaugeMetricFamily(
            "shopkeep_delivery_oldest_pending_age_seconds",
            "Age of the oldest command due for delivery now (0 when none is).",
            value=r.oldest_pending_command_age)
        hooks = GaugeMetricFamily("shopkeep_webhook_deliveries",
                                  "Webhook deliveries kept (retention window) by outcome.",
                                  labels=["outcome"])
        for outcome, n in sorted(r.webhooks_by_outcome.items()):
            hooks.add_metric([outcome], n)
        yield hooks
        yield GaugeMetricFamily("shopkeep_webhook_backlog",
                                "Webhook deliveries due now and not yet sent.",
                                value=r.webhook_backlog)
        yield GaugeMetricFamily(
            "shopkeep_webhook_backlog_age_seconds",
            "How long the oldest due webhook delivery has waited (0 when none is due).",
            value=r.webhook_backlog_age)
        depth = GaugeMetricFamily("shopkeep_task_queue_depth",
                                  "Background tasks ready to run, by queue.",
                                  labels=["queue"])
        for queue, n in sorted(r.tasks_ready.items()):
            depth.add_metric([queue], n)
        if not r.tasks_ready:
            depth.add_metric(["default"], 0)
        yield depth
        yield GaugeMetricFamily("shopkeep_task_oldest_ready_age_seconds",
                                "How long the oldest ready task has waited.",
                                value=r.oldest_ready_task_age)
        yield GaugeMetricFamily("shopkeep_tasks_running", "Background tasks running now.",
                                value=r.tasks_running)
        live = GaugeMetricFamily("shopkeep_processes_live",
                                 "Background processes with a recent heartbeat, by kind.",
                                 labels=["kind"])
        ages = GaugeMetricFamily("shopkeep_process_heartbeat_age_seconds",
                                 "Seconds since the newest heartbeat of each kind of process.",
                                 labels=["kind"])
        for kind, n in sorted(r.live_processes.items()):
            live.add_metric([kind], n)
            age = r.last_beat_age.get(kind)
            if age is not None:
                ages.add_metric([kind], age)
        yield live
        yield ages


DATABASE = DatabaseCollector()
_DB_REGISTRY = CollectorRegistry(auto_describe=False)
_DB_REGISTRY.register(DATABASE)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every web process's files, summed (counters, histograms) or live-summed (gauges).
        own = CollectorRegistry()
        MultiProcessCollector(own)
    else:
        own = REGISTRY
    return generate_latest(own) + generate_latest(_DB_REGISTRY)


def _loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _refused(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.SHOPKEEP_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(),
                                                                 token.encode()):
            return _refused(401, "unauthorized",
                            "Send Authorization: Bearer <SHOPKEEP_METRICS_TOKEN>.")
    elif settings.PRODUCTION:
        return _refused(403, "metrics_token_required",
                        "Set SHOPKEEP_METRICS_TOKEN to publish metrics in production.")
    elif not _loopback(request):
        return _refused(403, "loopback_only",
                        "Without SHOPKEEP_METRICS_TOKEN, metrics answer only on loopback.")
    if request.method not in ("GET", "HEAD"):
        return _refused(405, "method_not_allowed", "Use GET.")
    response = HttpResponse(exposition(), content_type=TEXT_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
