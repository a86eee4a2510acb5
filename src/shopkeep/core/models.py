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
