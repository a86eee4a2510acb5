"""Periodic jobs: apps register a task and an interval; the scheduler loop enqueues due runs.

The scheduler only *enqueues* (a django-tasks row, in the same transaction as the claim); the
worker runs the job. A job whose run is still queued is not enqueued twice, because the
claim moves ``next_run_at`` forward before the task row is committed.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from shopkeep.core.failpoints import failpoint
from shopkeep.core.heartbeat import Beater
from shopkeep.core.models import ScheduledJob

logger = logging.getLogger("shopkeep.scheduler")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Any  # a django_tasks Task
    every: timedelta


_REGISTRY: dict[str, PeriodicJob] = {}


def register_periodic(*, name: str, task: Any, every: timedelta) -> None:
    """Called from an AppConfig.ready(); re-registering the same name replaces it."""
    if every < timedelta(seconds=1):
        raise ValueError("periodic jobs run at most once a second")
    _REGISTRY[name] = PeriodicJob(name=name, task=task, every=every)


def registered_jobs() -> dict[str, PeriodicJob]:
    return dict(_REGISTRY)


def run_due_jobs(*, now: datetime | None = None) -> list[str]:
    """Enqueue every due job once; returns the names enqueued by this call."""
    now = now or timezone.now()
    enqueued: list[str] = []
    for job in _REGISTRY.values():
        row, _ = ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        if row.next_run_at > now:
            continue
        with transaction.atomic():
            claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=now + job.every, last_enqueued_at=now)
            if claimed != 1:
                continue  # another scheduler process took this run
            job.task.enqueue()
            failpoint("scheduler.claimed")  # a crash here rolls back the claim with the task
        enqueued.append(job.name)
        logger.info("enqueued periodic job %s", job.name)
    return enqueued


def run_forever(*, tick_seconds: float = 5.0, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    logger.info("scheduler started with %d jobs: %s", len(_REGISTRY), ", ".join(sorted(_REGISTRY)))
    beater = Beater("scheduler")
    while not stop.is_set():
        beater.beat()
        try:
            run_due_jobs()
        except Exception:
            # A database hiccup must not kill the scheduler; the next tick retries.
            logger.exception("scheduler tick failed")
        stop.wait(tick_seconds)
    beater.stop()
