from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.core.ids import public_id
from shopkeep.events.models import Event
from shopkeep.stores.models import Store


def _delivery_id() -> str:
    return public_id("wh_del", 20)


class WebhookEndpoint(models.Model):
    class Format(models.TextChoices):
        JSON = "json", "Custom JSON (signed)"
        DISCORD = "discord", "Discord embed"

    class DisabledReason(models.TextChoices):
        NONE = "", "-"
        MANUAL = "manual", "Disabled by a user"
        GONE = "gone", "The endpoint answered 410 Gone"
        FAILING = "failing", "Every delivery failed for 5 days"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event names the endpoint receives; with all_events, only the legacy names ticked besides
    # (all_events means the 17 current names).
    events = models.JSONField(default=list, blank=True)
    all_events = models.BooleanField(default=False)
    format = models.CharField(max_length=16, choices=Format.choices, default=Format.JSON)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices,
                                       blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # HMAC keys must be available in clear to sign, so the secret is kept, not a digest.
    secret = models.CharField(max_length=80)
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Start of the current run of failed attempts; NULL after any success.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        from shopkeep.events.catalogue import EVENT_TYPES

        return (self.all_events and event_type in EVENT_TYPES) or event_type in self.events


class WebhookDelivery(models.Model):
    """One event (or test) for one endpoint. ``public_id`` is the ``wh_del_...`` id of the
    payload and ``X-Webhook-ID``; it and ``body`` never change, so every retry is the same
    message and receivers can deduplicate on the id."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=40, unique=True, default=_delivery_id,
                                 editable=False)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="webhook_deliveries")
    event_type = models.CharField(max_length=64)
    is_test = models.BooleanField(default=False)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # Retries used since the delivery was created or last redelivered by hand.
    retry_step = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A dispatcher's claim: nobody else sends this delivery until lease_until has passed.
    lease_token = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The request id of the change behind the event (core/requestid.py); empty for tests.
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "-id"]),
            models.Index(fields=["store", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.public_id


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    url = models.CharField(max_length=2000)
    request_headers = models.JSONField(default=dict)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)  # the first 4 KB
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["number", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
