from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.stores.models import Store


class Event(models.Model):
    """A domain event, written in the same transaction as the change it describes
    (transactional outbox). The webhook dispatcher fans rows out to endpoints."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=64)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the fan-out worker once deliveries exist for this event; NULL rows are the backlog.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The request (or task) that made the change, carried into its webhook deliveries so
    # their log lines can be found by it (core/requestid.py).
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["store", "event_type", "-id"]),
            models.Index(fields=["id"], condition=models.Q(dispatched_at__isnull=True),
                         name="event_undispatched_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"
