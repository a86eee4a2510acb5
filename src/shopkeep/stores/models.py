from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from shopkeep.core.ids import public_id
from shopkeep.core.money import CURRENCIES


def _store_public_id() -> str:
    return public_id("store")


# The store's game decides how player identities are validated (customers.identity).
GAMES: dict[str, str] = {
    "minecraft": "Minecraft (Java)",
    "rust": "Rust",
    "ark": "ARK: Survival Evolved",
    "cs2": "Counter-Strike 2",
    "gmod": "Garry's Mod",
    "fivem": "FiveM",
    "redm": "RedM",
    "dayz": "DayZ",
    "arma3": "Arma 3",
    "7dtd": "7 Days to Die",
    "other": "Other",
}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as Europe/Berlin")




class LiveApproval(models.TextChoices):
    NOT_REQUESTED = "not_requested", "Not requested"
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Not approved"


class Store(models.Model):
    """The tenant: every store-owned row carries a ``store`` foreign key."""

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        STARTER = "starter", "Starter"
        GROWTH = "growth", "Growth"
        PRO = "pro", "Pro"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    public_id = models.CharField(max_length=32, unique=True, default=_store_public_id,
                                 editable=False)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    currency = models.CharField(max_length=3, default="USD",
                                choices=[(c, c) for c in CURRENCIES])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    test_mode = models.BooleanField(default=True)
    # Live payments wait for platform staff when SHOPKEEP_STORE_APPROVAL is on
    # (stores/approval.py); test mode never does.
    live_approval = models.CharField(max_length=16, choices=LiveApproval.choices,
                                     default=LiveApproval.NOT_REQUESTED)
    live_approval_note = models.CharField(max_length=1000, blank=True)
    live_approval_reason = models.CharField(max_length=1000, blank=True)
    live_approval_at = models.DateTimeField(null=True, blank=True)
    game = models.CharField(max_length=16, default="minecraft", choices=list(GAMES.items()))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    SUPPORT = "support", "Support"


class Membership(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["store_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store} ({self.role})"


class ApiToken(models.Model):
    """A store API bearer token. Only its SHA-256 digest is kept; the UI shows ``prefix``."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class AuditLog(models.Model):
    """One row per service write: who did what to which object, in which store, when."""

    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="audit_log")
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    actor_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # "system" for the worker and CLI, "user"/"token" otherwise; kept even after the actor goes.
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class BillingPlan(models.Model):
    """A plan the platform operator sells to store owners (SHOPKEEP_PLATFORM_BILLING on):
    prices, the support SLA tier of seed 000, limits (null: unlimited) and a trial. Prices
    are Stripe Prices on the platform's own account; the store's ``plan`` field follows
    ``sla_tier`` so the support clock keeps reading it."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    sla_tier = models.CharField(max_length=16, choices=Store.Plan.choices,
                                default=Store.Plan.FREE)
    currency = models.CharField(max_length=3, default="USD")
    price_month = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    price_year = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    stripe_price_month = models.CharField(max_length=100, blank=True)
    stripe_price_year = models.CharField(max_length=100, blank=True)
    trial_days = models.PositiveSmallIntegerField(default=0)
    max_servers = models.PositiveIntegerField(null=True, blank=True)
    max_products = models.PositiveIntegerField(null=True, blank=True)
    max_members = models.PositiveIntegerField(null=True, blank=True)
    max_webhook_endpoints = models.PositiveIntegerField(null=True, blank=True)
    # The plan a store without a subscription is on (at most one; the cheapest, usually).
    is_default = models.BooleanField(default=False)
    is_public = models.BooleanField(default=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "price_month", "id"]
        constraints = [models.UniqueConstraint(fields=["is_default"],
                                               condition=models.Q(is_default=True),
                                               name="one_default_plan")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return not self.price_month and not self.price_year


class StoreBilling(models.Model):
    """A store's subscription to a platform plan, as the platform's Stripe account reports
    it (platform/billing.py keeps it in step with Stripe's webhooks)."""

    class Status(models.TextChoices):
        NONE = "none", "No subscription"
        TRIALING = "trialing", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Payment failed, retrying"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Cancelled"
        INCOMPLETE = "incomplete", "Waiting for the first payment"

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="billing")
    plan = models.ForeignKey(BillingPlan, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    interval = models.CharField(max_length=8, default="month",
                                choices=[("month", "Monthly"), ("year", "Yearly")])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NONE)
    billing_email = models.EmailField(blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, db_index=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.store_id}: {self.plan_id} {self.status}"
