"""Platform operations: the status page (incidents, maintenance, daily history, e-mail
subscribers)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

COMPONENTS = (
    ("storefront", "Storefront"),
    ("checkout", "Checkout and payments"),
    ("delivery_api", "Delivery API"),
    ("webhooks", "Webhooks"),
    ("dashboard", "Dashboard"),
)
COMPONENT_KEYS = tuple(k for k, _ in COMPONENTS)


class State(models.TextChoices):
    """Worst last: ``SEVERITY`` orders them for "the worst of several signals"."""

    OPERATIONAL = "operational", "Operational"
    MAINTENANCE = "maintenance", "Under maintenance"
    DEGRADED = "degraded", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"


SEVERITY = {s: i for i, s in enumerate(State.values)}


def worst(*states: str) -> str:
    return max(states, key=SEVERITY.__getitem__, default=State.OPERATIONAL)


def _token() -> str:
    return secrets.token_urlsafe(24)


class Incident(models.Model):
    """An incident or a maintenance window that platform staff write and update."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", "Incident"
        MAINTENANCE = "maintenance", "Maintenance"

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    INCIDENT_STATUSES = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING,
                         Status.RESOLVED)
    MAINTENANCE_STATUSES = (Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED)
    CLOSED = (Status.RESOLVED, Status.COMPLETED)

    class Impact(models.TextChoices):
        DEGRADED = State.DEGRADED.value, State.DEGRADED.label
        PARTIAL_OUTAGE = State.PARTIAL_OUTAGE.value, State.PARTIAL_OUTAGE.label
        MAJOR_OUTAGE = State.MAJOR_OUTAGE.value, State.MAJOR_OUTAGE.label
        MAINTENANCE = State.MAINTENANCE.value, State.MAINTENANCE.label

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INCIDENT)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices)
    impact = models.CharField(max_length=16, choices=Impact.choices)
    components = models.JSONField(default=list)
    # Incidents: when it began (defaults to creation). Maintenance: the announced window.
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["resolved_at", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED

    def active_at(self, now) -> bool:
        """Affects components now: an open incident, or maintenance in its window."""
        if not self.is_open:
            return False
        if self.kind == self.Kind.MAINTENANCE:
            return self.status == self.Status.IN_PROGRESS or (
                self.starts_at <= now and (self.ends_at is None or now < self.ends_at))
        return self.starts_at <= now

    def component_labels(self) -> list[str]:
        names = dict(COMPONENTS)
        return [names[c] for c in self.components if c in names]


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16, choices=Incident.Status.choices)
    body = models.TextField(max_length=5000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.status}"


class StatusDay(models.Model):
    """One component's day (UTC): how many automatic checks ran and how many found it
    degraded or down. 90 of them per component are the page's history bars."""

    component = models.CharField(max_length=16, choices=COMPONENTS)
    day = models.DateField()
    samples = models.PositiveIntegerField(default=0)
    degraded = models.PositiveIntegerField(default=0)
    outage = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["component", "day"],
                                               name="status_day_unique")]

    def __str__(self) -> str:
        return f"{self.component} {self.day}"


class StatusSubscriber(models.Model):
    """An e-mail address that asked for incident notices. Nothing is sent to it before it
    confirms (double opt-in); the token is in every mail's unsubscribe link."""

    email = models.EmailField(unique=True)
    token = models.CharField(max_length=64, unique=True, default=_token)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.email


class PlatformInvoice(models.Model):
    """An invoice of the platform's Stripe account to a store, as Stripe's invoice events
    reported it. The PDF and the hosted page stay at Stripe (their links are shown)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE,
                              related_name="platform_invoices")
    stripe_id = models.CharField(max_length=100, unique=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    amount_due = models.PositiveIntegerField(default=0)  # minor units, as Stripe sends them
    amount_paid = models.PositiveIntegerField(default=0)
    hosted_invoice_url = models.URLField(max_length=1000, blank=True)
    invoice_pdf = models.URLField(max_length=1000, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number or self.stripe_id

    @property
    def amount_due_display(self) -> str:
        """Minor units as money (Stripe's USD/EUR-style two-decimal currencies)."""
        return f"{self.amount_due // 100}.{self.amount_due % 100:02d} {self.currency.upper()}"


class PlatformStripeEvent(models.Model):
    """Each platform-account webhook event is applied once (Stripe delivers at least once)."""

    stripe_id = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} {self.stripe_id}"
