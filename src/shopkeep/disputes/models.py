from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.orders.models import Order
from shopkeep.stores.models import Store


class Dispute(models.Model):
    class Status(models.TextChoices):
        NEEDS_RESPONSE = "needs_response"
        UNDER_REVIEW = "under_review"
        WON = "won"
        LOST = "lost"
        WARNING_CLOSED = "warning_closed"

    RESOLVED = (Status.WON, Status.LOST, Status.WARNING_CLOSED)

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="disputes")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    payment_gateway = models.CharField(max_length=32)
    gateway_dispute_id = models.CharField(max_length=128)
    charge_id = models.CharField(max_length=128, blank=True)
    amount_minor = models.BigIntegerField()  # seed 002: dispute amounts are in cents
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=64)
    reason_description = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices,
                              default=Status.NEEDS_RESPONSE)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    net_amount_impact = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Per store, like every notice lookup: an id another store's notice used first
            # cannot block this store's dispute.
            models.UniqueConstraint(fields=["store", "payment_gateway", "gateway_dispute_id"],
                                    name="dispute_gateway_id_once_per_store"),
        ]

    def __str__(self) -> str:
        return self.gateway_dispute_id
