from __future__ import annotations

from django.db import models
from django.utils import timezone


class ScheduledJob(models.Model):
    """One row per periodic job. Schedulers claim a due run with a conditional UPDATE on
    ``next_run_at``, so any number of scheduler processes enqueue each run exactly once."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JobLease(models.Model):
    """A worker's claim on one running background task (a django-tasks-db row).

    The worker renews ``expires_at`` while the task runs; when it dies (SIGKILL, OOM, power
    loss) the renewals stop, and the sweeper (``core.jobs.jobs_sweep``) puts the task back in
    the queue. The worker records a task's result only while it still holds the lease, so a
    worker that was merely slow never overwrites the outcome of the run that replaced it.
    """

    task_id = models.UUIDField(primary_key=True)
    worker_id = models.CharField(max_length=64)
    attempt = models.PositiveIntegerField(default=1)
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.task_id} by {self.worker_id} until {self.expires_at:%H:%M:%S}"


class ProcessBeat(models.Model):
    """The last sign of life of one background process (a worker, the webhook dispatcher or
    a scheduler), written at most every ``core.heartbeat.EVERY``. The status page and
    ``/metrics`` read it: a queue with no live worker is an outage even while the web
    answers. Rows of processes that stopped stay until ``core.heartbeat.prune`` removes them
    a day later, so "the last worker died 10 minutes ago" can be said."""

    class Kind(models.TextChoices):
        WORKER = "worker"
        DISPATCHER = "dispatcher"
        SCHEDULER = "scheduler"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    instance = models.CharField(max_length=96, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.instance} at {self.beat_at:%H:%M:%S}"
