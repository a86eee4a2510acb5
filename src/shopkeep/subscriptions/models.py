from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from shopkeep.catalog.models import Product
from shopkeep.customers.models import Customer, PlayerSnapshot
from shopkeep.orders.models import Order
from shopkeep.stores.models import Store


class Subscription(PlayerSnapshot):
    class Status(models.TextChoices):
        ACTIVE = "active"
        TRIALING = "trialing"
        PAST_DUE = "past_due"
        CANCELED = "canceled"  # seed 002 spells it with one L in the payload

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="subscriptions")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="subscriptions")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    payment_gateway = models.CharField(max_length=32)
    gateway_subscription_id = models.CharField(max_length=128)
    gateway_customer_id = models.CharField(max_length=128, blank=True)
    gateway_plan_id = models.CharField(max_length=128, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    billing_interval = models.CharField(max_length=8)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    trial_starts_at = models.DateTimeField(null=True, blank=True)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    # Dunning: failed renewal attempts so far and when the next one is due.
    attempt_count = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Set when access actually ended and the subscription_cancel commands were queued.
    ended_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "payment_gateway",
                                            "gateway_subscription_id"],
                                    name="subscription_gateway_id_once_per_store"),
        ]

    def __str__(self) -> str:
        return f"{self.product} for {self.customer}"

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.CANCELED


class Renewal(models.Model):
    """One billing attempt for a period after the first; the history behind the dunning."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="renewals")
    succeeded = models.BooleanField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    # Tax on this renewal at the rates of the day it renewed (subscriptions/services.py).
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0"))
    tax_inclusive = models.BooleanField(default=True)
    tax_country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"renewal of {self.subscription_id} ({'ok' if self.succeeded else 'failed'})"
