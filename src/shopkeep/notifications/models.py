"""The e-mail outbox: one row per (event, kind, recipient), sent by the worker.

Rows are made from the event outbox (``events.Event``) by a periodic scan, never inside the
request that caused them; a unique ``dedup_key`` makes a re-scan harmless, and a conditional
UPDATE claims a row for sending so two workers never send the same mail.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.stores.models import Membership, Store


class EmailOutbox(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    recipient = models.EmailField()
    dedup_key = models.CharField(max_length=200, unique=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    context = models.JSONField(default=dict)
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    leased_until = models.DateTimeField(null=True, blank=True)
    # The task run holding the row (``task:<id>``); the same task, back after its worker
    # died, may take the row over at once instead of waiting out ``leased_until``.
    claimed_by = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"]),
                   models.Index(fields=["store", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"


class ScanCursor(models.Model):
    """How far the scan has read the event table."""

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_event_id}"


class StoreEmailSettings(models.Model):
    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="email_settings")
    buyer_receipts = models.BooleanField(default=True)
    reply_to = models.EmailField(blank=True)
    abandoned_basket = models.BooleanField(default=False)
    abandoned_delay_hours = models.PositiveIntegerField(default=4)

    def __str__(self) -> str:
        return f"e-mail settings of {self.store_id}"


class MemberEmailPreference(models.Model):
    """Which owner notices a member gets. Owners get them all until they choose; other
    members get none until they opt in."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE,
                                      related_name="email_preference")
    new_sale = models.BooleanField(default=False)
    delivery_failed = models.BooleanField(default=False)
    dispute_opened = models.BooleanField(default=False)
    daily_summary = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"e-mail preference of {self.membership_id}"


class EmailUnsubscribe(models.Model):
    """An address that asked for no more mail of one kind from one store (the link in
    abandoned-basket reminders). Receipts are not marketing and cannot be unsubscribed."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    kind = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "email", "kind"], name="unsubscribe_once"),
        ]

    def __str__(self) -> str:
        return f"{self.email} from {self.kind} of {self.store_id}"
