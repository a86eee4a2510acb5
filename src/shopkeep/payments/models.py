from __future__ import annotations

from django.db import models
from django.utils import timezone


class GatewayEvent(models.Model):
    """Every inbound provider notice, kept once: the unique key makes a replay a no-op."""

    # The store the notice was received for; it is applied inside that store only.
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    gateway = models.CharField(max_length=32)
    event_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=48)
    reference = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Per store: a notice misrouted to one store cannot block the same event's
            # delivery to the store it is about.
            models.UniqueConstraint(fields=["store", "gateway", "event_id"],
                                    name="gateway_event_once_per_store"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.event_id}"


# -- the sandbox provider's own books ------------------------------------------------------
# These tables stand in for the provider's side: the sandbox gateway reads and writes only
# them, never our orders, exactly as a remote provider could not.


class SandboxSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETE = "complete"
        EXPIRED = "expired"

    id = models.CharField(primary_key=True, max_length=40)
    store_public_id = models.CharField(max_length=40)
    reference = models.CharField(max_length=64)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300)
    customer_email = models.EmailField()
    success_url = models.CharField(max_length=500)
    cancel_url = models.CharField(max_length=500)
    subscription_interval = models.CharField(max_length=8, blank=True)
    trial_days = models.PositiveIntegerField(default=0)
    # Taken off the first payment only; the subscription renews at amount + this.
    first_period_credit_minor = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.id


class SandboxCharge(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    session = models.ForeignKey(SandboxSession, null=True, on_delete=models.SET_NULL)
    reference = models.CharField(max_length=64)
    amount_minor = models.BigIntegerField()
    refunded_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    card_last4 = models.CharField(max_length=4)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.id


class SandboxSubscription(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    customer_id = models.CharField(max_length=40)
    reference = models.CharField(max_length=64)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=8)
    status = models.CharField(max_length=16, default="active")
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    card_number = models.CharField(max_length=19)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.id


class SandboxRefund(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    charge = models.ForeignKey(SandboxCharge, on_delete=models.CASCADE, related_name="refunds")
    amount_minor = models.BigIntegerField()
    # succeeded at once, or pending (the slow-refund test card) until the sandbox clock
    # settles it and sends refund.succeeded.
    status = models.CharField(max_length=16, default="succeeded")
    # The key the refund was made with, kept on the refund like Stripe's metadata, so the
    # caller can find it later (reconciliation); replays are answered by SandboxIdempotentRequest.
    idempotency_key = models.CharField(max_length=128, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.id


class SandboxIdempotentRequest(models.Model):
    """The sandbox's idempotency keys, kept the way Stripe keeps them: the first request's
    parameters (as a digest) and its response, replayed for the same key and parameters for
    24 hours; the same key with other parameters is an ``idempotency_error``."""

    key = models.CharField(primary_key=True, max_length=255)
    operation = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.key


class StripeConnection(models.Model):
    """A store's Stripe account. Secrets are sealed (``payments.sealed``), never shown again:
    the page and the API show only the mode and the last four characters."""

    store = models.OneToOneField("stores.Store", on_delete=models.CASCADE,
                                 related_name="stripe_connection")
    account_id = models.CharField(max_length=64)
    account_name = models.CharField(max_length=200, blank=True)
    livemode = models.BooleanField()
    secret_key_sealed = models.TextField()
    secret_key_last4 = models.CharField(max_length=4)
    webhook_secret_sealed = models.TextField()
    webhook_secret_last4 = models.CharField(max_length=4)
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.CharField(max_length=200, blank=True)
    # What the settings page reports about the webhook: whether Stripe reached us yet, and
    # whether something reached us that the signing secret could not verify.
    first_event_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_event_type = models.CharField(max_length=64, blank=True)
    last_signature_failure_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id} ({'live' if self.livemode else 'test'})"

    def seal_context(self, field: str) -> str:
        return f"stripe:{self.store_id}:{field}"


class PayPalConnection(models.Model):
    """A store's PayPal REST app. The client secret is sealed and never shown again; the
    webhook is the one Shopkeep found or created for this store's URL when it connected."""

    class Mode(models.TextChoices):
        SANDBOX = "sandbox"
        LIVE = "live"

    store = models.OneToOneField("stores.Store", on_delete=models.CASCADE,
                                 related_name="paypal_connection")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    client_id = models.CharField(max_length=128)
    client_secret_sealed = models.TextField()
    client_secret_last4 = models.CharField(max_length=4)
    webhook_id = models.CharField(max_length=64)
    webhook_created = models.BooleanField(default=False)
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.CharField(max_length=200, blank=True)
    first_event_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_event_type = models.CharField(max_length=64, blank=True)
    last_signature_failure_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.client_id[:12]}… ({self.mode})"

    @property
    def livemode(self) -> bool:
        return self.mode == self.Mode.LIVE

    def seal_context(self, field: str) -> str:
        return f"paypal:{self.store_id}:{field}"


class PayPalPlan(models.Model):
    """A billing plan made at PayPal for one subscription product at one price: PayPal bills
    by plan, so a price or interval change needs a new plan (old subscribers keep theirs)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8)
    client_id = models.CharField(max_length=128)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=8)
    trial_days = models.PositiveIntegerField(default=0)
    paypal_product_id = models.CharField(max_length=64)
    plan_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product", "mode", "client_id", "amount_minor", "currency",
                        "interval", "trial_days"], name="paypal_plan_once_per_terms"),
        ]

    def __str__(self) -> str:
        return self.plan_id


class PayPalEvent(models.Model):
    """Every verified PayPal webhook event, kept once per store by PayPal's event id: a
    redelivery (PayPal resends until it gets a 2xx, for up to three days) is a no-op."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=128, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "event_id"],
                                    name="paypal_event_once_per_store"),
        ]

    def __str__(self) -> str:
        return self.event_id
