"""What the database says about the platform's health, read by ``/metrics`` (collector.py)
and the status page (status.py) alike. Every figure is one indexed query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shopkeep.core import heartbeat
from shopkeep.core.models import ProcessBeat
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.webhooks.models import WebhookDelivery


@dataclass
class Readings:
    at: datetime
    database_ok: bool = True
    commands_by_state: dict[str, int] = field(default_factory=dict)
    oldest_pending_command_age: float = 0.0  # seconds; 0 with nothing due
    webhooks_by_outcome: dict[str, int] = field(default_factory=dict)
    webhook_backlog: int = 0
    webhook_backlog_age: float = 0.0  # seconds the oldest due delivery has waited
    tasks_ready: dict[str, int] = field(default_factory=dict)
    tasks_running: int = 0
    oldest_ready_task_age: float = 0.0
    live_processes: dict[str, int] = field(default_factory=dict)
    last_beat_age: dict[str, float | None] = field(default_factory=dict)


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then else 0.0


def read(*, now: datetime | None = None) -> Readings:
    now = now or timezone.now()
    r = Readings(at=now)
    r.commands_by_state = {s: 0 for s in DeliveryCommand.Status.values}
    for row in DeliveryCommand.objects.values("status").annotate(n=Count("id")):
        r.commands_by_state[row["status"]] = row["n"]
    # Due now: a command waiting for its retry time or for the player is not lag.
    due = DeliveryCommand.objects.filter(status=DeliveryCommand.Status.PENDING,
                                         execute_after__isnull=True)
    r.oldest_pending_command_age = _age(now, due.aggregate(m=Min("created_at"))["m"])
    r.webhooks_by_outcome = {s: 0 for s in WebhookDelivery.Status.values}
    for row in WebhookDelivery.objects.values("status").annotate(n=Count("id")):
        r.webhooks_by_outcome[row["status"]] = row["n"]
    backlog = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                             next_attempt_at__lte=now,
                                             endpoint__is_active=True)
    agg = backlog.aggregate(n=Count("id"), m=Min("next_attempt_at"))
    r.webhook_backlog, r.webhook_backlog_age = agg["n"], _age(now, agg["m"])
    ready = DBTaskResult.objects.ready()
    for row in ready.values("queue_name").annotate(n=Count("id")):
        r.tasks_ready[row["queue_name"]] = row["n"]
    r.oldest_ready_task_age = _age(now, ready.aggregate(m=Min("enqueued_at"))["m"])
    r.tasks_running = DBTaskResult.objects.running().count()
    for kind in ProcessBeat.Kind.values:
        r.live_processes[kind] = 0
        r.last_beat_age[kind] = None
    for row in ProcessBeat.objects.values("kind").annotate(
            n=Count("id", filter=Q(beat_at__gte=now - heartbeat.STALE)), last=Max("beat_at")):
        r.live_processes[row["kind"]] = row["n"]
        r.last_beat_age[row["kind"]] = _age(now, row["last"])
    return r

