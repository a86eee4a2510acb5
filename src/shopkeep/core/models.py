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
