"""One ticket engine for two kinds of conversation.

* platform tickets: a store's members (the requester) ask the platform team (support side);
* customer tickets: a store's customer (the requester) asks the store (support side).

Both share the status machine; the two "waiting" statuses carry the names the seeds use for
each kind, so the API and the events never need a translation table.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from shopkeep.customers.models import Customer
from shopkeep.orders.models import Order
from shopkeep.stores.models import Store


class Kind(models.TextChoices):
    PLATFORM = "platform", "Platform support"
    CUSTOMER = "customer", "Customer support"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In Progress"
    WAITING_FOR_STORE_OWNER = "waiting_for_store_owner", "Waiting for Store Owner"
    WAITING_FOR_PLATFORM = "waiting_for_platform", "Waiting for Platform"
    WAITING_FOR_CUSTOMER = "waiting_for_customer", "Waiting for Customer"
    WAITING_FOR_STORE = "waiting_for_store", "Waiting for Store"
    CLOSED = "closed", "Closed"


# kind -> (waiting for the requester, waiting for the support side)
WAITING: dict[str, tuple[str, str]] = {
    Kind.PLATFORM: (Status.WAITING_FOR_STORE_OWNER, Status.WAITING_FOR_PLATFORM),
    Kind.CUSTOMER: (Status.WAITING_FOR_CUSTOMER, Status.WAITING_FOR_STORE),
}


def statuses_for(kind: str) -> list[str]:
    return [Status.OPEN, Status.IN_PROGRESS, *WAITING[kind], Status.CLOSED]


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_HELP = {
    Priority.LOW: "Minor issues, general questions",
    Priority.NORMAL: "Standard issues affecting some functionality",
    Priority.HIGH: "Major issues affecting critical functionality",
    Priority.URGENT: "Store is down or completely unable to process payments",
}

# Seed 000's categories for platform tickets; seed 002's example uses "orders".
PLATFORM_CATEGORIES = {
    "billing": "Billing & Plans",
    "technical": "Technical Issue",
    "account": "Account",
    "feature": "Feature Request",
    "general": "General",
}
CUSTOMER_CATEGORIES = {
    "orders": "Orders & delivery",
    "payments": "Payments & refunds",
    "account": "My account",
    "other": "Something else",
}


class Ticket(models.Model):
    kind = models.CharField(max_length=16, choices=Kind.choices)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="tickets")
    subject = models.CharField(max_length=200)
    category = models.CharField(max_length=32)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.OPEN)
    # Platform tickets: the member who wrote it. Customer tickets: the customer (if known).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="tickets")
    customer_email = models.EmailField(blank=True)
    customer_name = models.CharField(max_length=150, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="tickets")
    # The capability in a customer's "follow this ticket" link (like an order's access key).
    access_key = models.CharField(max_length=40, unique=True, null=True, blank=True)
    # Recorded automatically on platform tickets: plan at creation, browser and OS.
    plan = models.CharField(max_length=16, choices=Store.Plan.choices, blank=True)
    environment = models.JSONField(default=dict, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_tickets")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_response_at = models.DateTimeField(null=True, blank=True)
    last_response_by = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Auto-close: when the ticket started waiting for the requester, and the day-5 reminder.
    waiting_since = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # SLA clock for the platform's next response (platform tickets only). Business time is
    # accumulated in ``sla_elapsed`` while the clock runs; ``sla_running_since`` is NULL while
    # it is paused (waiting for the store owner, closed). ``due_at``/``breach_at`` are the
    # plan's target and breach moments for the running clock, stored so queues sort in SQL.
    sla_running_since = models.DateTimeField(null=True, blank=True)
    sla_elapsed = models.DurationField(default=timedelta)
    due_at = models.DateTimeField(null=True, blank=True)
    breach_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    # Set when a response came after its breach moment (kept after the clock stops).
    sla_breached = models.BooleanField(default=False)
    # The breach moment staff were last e-mailed about (staff_tools.breaches_notify): one
    # mail per breach, and a new one when a later response's clock breaches again.
    breach_notified_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["store", "kind", "status", "-updated_at"]),
            models.Index(fields=["kind", "status", "due_at"]),
            models.Index(fields=["status", "waiting_since"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> str:
        return f"#{self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def waiting_for_requester(self) -> str:
        return WAITING[self.kind][0]

    @property
    def waiting_for_support(self) -> str:
        return WAITING[self.kind][1]

    @property
    def category_label(self) -> str:
        labels = PLATFORM_CATEGORIES if self.kind == Kind.PLATFORM else CUSTOMER_CATEGORIES
        return labels.get(self.category, self.category)

    def sla_state(self, now=None) -> str:
        """``paused``, ``ok``, ``over_target`` or ``breached``: the queue's breach marker."""
        now = now or timezone.now()
        if self.sla_running_since is None or self.due_at is None:
            return "breached" if self.sla_breached else "paused"
        if self.breach_at is not None and now >= self.breach_at:
            return "breached"
        if now >= self.due_at:
            return "over_target"
        return "ok"


class Author(models.TextChoices):
    REQUESTER = "requester", "Requester"  # store member (platform) or customer
    SUPPORT = "support", "Support"  # platform staff or store member (customer tickets)
    SYSTEM = "system", "System"


class Message(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=16, choices=Author.choices)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=200)
    # ``body`` is the redacted plain text (events, e-mails); ``body_html`` its Markdown
    # rendering sanitised by nh3, the only form any page shows.
    body = models.TextField()
    body_html = models.TextField()
    # Support-side notes the requester never sees (staff notes on platform tickets).
    internal = models.BooleanField(default=False)
    redactions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message {self.pk} on ticket {self.ticket_id}"


class Attachment(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    # Stored under a random name outside any public path; ``filename`` is the sanitised
    # display name and ``content_type`` what the bytes are, not what the name claimed.
    file = models.FileField(upload_to="private/support/", max_length=200)
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Survey(models.Model):
    """A satisfaction survey sent when a platform ticket closes: a one-time link (the token is
    only in the e-mail; the row keeps its digest), answered once with 1 to 5 and a comment."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surveys")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"survey for ticket {self.ticket_id}"


class Guide(models.Model):
    """A knowledge-base article suggested before a platform ticket is written."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=120)
    problem = models.CharField(max_length=300)
    solutions = models.TextField(help_text="One step per line; Markdown allowed.")
    keywords = models.CharField(max_length=300, blank=True,
                                help_text="Extra words that should suggest this guide.")
    is_published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class GuideView(models.Model):
    """A store member opened a guide. ``ticket`` is set when the same member writes a
    platform ticket soon after; views that stay without one are tickets the guide avoided."""

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="views")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["store", "user", "-opened_at"])]

    def __str__(self) -> str:
        return f"{self.guide_id} opened {self.opened_at:%Y-%m-%d}"


class CannedReply(models.Model):
    """A reply platform staff keep for questions that come back (seed 000's common issues);
    picked on the ticket page, it fills the reply box to be edited before sending."""

    title = models.CharField(max_length=120, unique=True)
    body = models.TextField(max_length=10000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
