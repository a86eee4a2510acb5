"""Game servers, their secrets, and the command queue the agents pull (seed 001).

A command's life: ``pending`` -> ``completed``; ``pending`` -> ``retrying`` (a retryable
failure, due again at ``execute_after``) -> ``pending``; -> ``failed`` after the store's last
attempt or a failure the agent calls permanent; -> ``cancelled`` (refund before delivery,
server removed); -> ``needs_review`` when the agent cannot know whether a command that is not
safe to run again reached the game (it crashed or lost the connection mid-execution): no
``delivery.failed``, the owner decides with "Mark delivered" (-> ``completed``) or "Run again"
(-> ``pending``). Every transition is one conditional write, so a confirm and a cancel that
race cannot both win.
"""

from __future__ import annotations

import re

from django.db import models
from django.utils import timezone

from shopkeep.catalog.models import DeliveryAction
from shopkeep.orders.models import Order, OrderItem
from shopkeep.stores.models import GAMES, Store

ONLINE_WINDOW_SECONDS = 300  # a server is online while its last heartbeat is this fresh
AGENT_LEASE_SECONDS = 180  # another agent instance is refused while the current one is this fresh
# A command handed out is leased to its poller this long: no other poller receives it meanwhile.
COMMAND_LEASE_SECONDS = 120
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class AgentKey(models.Model):
    """The store's secret (``X-Store-Secret``) and the store's delivery settings."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="agent_key")
    secret_hash = models.CharField(max_length=64, blank=True)
    secret_prefix = models.CharField(max_length=12, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    poll_seconds = models.PositiveSmallIntegerField(default=60)

    def __str__(self) -> str:
        return f"agent key of {self.store}"


class GameServerQuerySet(models.QuerySet):
    def alive(self) -> GameServerQuerySet:
        return self.filter(removed_at__isnull=True)


class GameServer(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="game_servers")
    name = models.CharField(max_length=60)
    game = models.CharField(max_length=16, choices=list(GAMES.items()))
    secret_hash = models.CharField(max_length=64, unique=True)
    secret_prefix = models.CharField(max_length=12)
    # Bumped in the same transaction as any change to the server's due commands; the ETag of
    # an agent poll is derived from it, so an idle poll compares one integer.
    queue_version = models.PositiveBigIntegerField(default=0)
    # The earliest execute_after among the server's retrying commands (NULL when none).
    retry_due_at = models.DateTimeField(null=True, blank=True)
    # Heartbeat state (seed 001: every 2 minutes).
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    agent_version = models.CharField(max_length=32, blank=True)
    online_players = models.JSONField(default=list, blank=True)
    # One agent per server: the instance that holds the server and when it was last seen.
    agent_instance = models.CharField(max_length=64, blank=True)
    agent_seen_at = models.DateTimeField(null=True, blank=True)
    duplicate_instance = models.CharField(max_length=64, blank=True)
    duplicate_seen_at = models.DateTimeField(null=True, blank=True)
    # Last poll without X-Agent-Instance (a seed-only client): the dashboard says so.
    anonymous_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = GameServerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="game_server_unique_live_name",
                                    condition=models.Q(removed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.name

    def agent_out_of_date(self) -> bool:
        """The agent's last heartbeat named an older version than the newest one."""
        from shopkeep.delivery.versions import is_older

        return bool(self.agent_version) and is_older(self.agent_version)

    def is_online(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.last_heartbeat_at is not None
                and (now - self.last_heartbeat_at).total_seconds() < ONLINE_WINDOW_SECONDS)

    def duplicate_warning(self, now=None) -> bool:
        """Another agent instance was refused recently: two installations share this key."""
        now = now or timezone.now()
        return (self.duplicate_seen_at is not None
                and (now - self.duplicate_seen_at).total_seconds() < ONLINE_WINDOW_SECONDS * 12)

    def anonymous_agent(self, now=None) -> bool:
        """An agent polled recently without identifying itself (no X-Agent-Instance)."""
        now = now or timezone.now()
        return (self.anonymous_seen_at is not None
                and (now - self.anonymous_seen_at).total_seconds() < ONLINE_WINDOW_SECONDS * 12)


class DeliveryCommand(models.Model):
    class Kind(models.TextChoices):
        # Pulled and run by the agent on ``server``.
        GAME = "game", "Game command"
        # Run by the platform's worker against Discord's REST API (shopkeep.discord); no
        # server. ``command`` is a sentence for the log, the work is in the discord_* fields.
        DISCORD = "discord", "Discord role"

    class Type(models.TextChoices):
        PURCHASE = "purchase"
        REFUND = "refund"
        CHARGEBACK = "chargeback"
        SUBSCRIPTION_CANCEL = "subscription_cancel"

    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"
        NEEDS_REVIEW = "needs_review"
        # A Discord role for a buyer who is not in the guild (or bought without a Discord
        # sign-in): nothing to retry until they use /claim, which makes it pending again.
        WAITING_CLAIM = "waiting_claim"

    OPEN = (Status.PENDING, Status.RETRYING, Status.WAITING_CLAIM)
    # A player's later commands on the server wait behind these (queue order per player).
    # Not needs_review: the owner may take days to decide, and holding the player's later
    # purchases that long would be worse than the rare reordering it prevents (a refund of
    # a purchase awaiting review cancels that purchase instead).
    HOLDS_PLAYER = (Status.RETRYING,)

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.GAME)
    # NULL for Discord commands (no game server involved).
    server = models.ForeignKey(GameServer, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="commands")

    class Origin(models.TextChoices):
        ORDER = "order"  # queued by a payment, refund, dispute or subscription end
        TEST = "test"  # "Send test command": no order, no customer, a test player
        MANUAL = "manual"  # the owner's manual delivery for a customer, with a reason

    # NULL for test and manual commands (origin != "order"): nothing was bought.
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="delivery_commands")
    order_item = models.ForeignKey(OrderItem, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="delivery_commands")
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.ORDER)
    # Manual deliveries: whom for and why (the audit row carries the same); a manual delivery
    # of a product also names the product.
    customer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey("catalog.Product", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    requested_by = models.CharField(max_length=200, blank=True)
    action = models.ForeignKey(DeliveryAction, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    # Makes queueing idempotent: (cause, item, action, command index, server, unit) once.
    dedupe_key = models.CharField(max_length=160, unique=True)
    type = models.CharField(max_length=24, choices=Type.choices)
    command = models.CharField(max_length=500)
    placeholders = models.JSONField(default=dict)
    require_online = models.BooleanField(default=False)
    player_name = models.CharField(max_length=32, blank=True)
    player_uuid = models.CharField(max_length=36, blank=True)
    player_steam_id = models.CharField(max_length=17, blank=True)
    # Discord commands: whose role (the snapshot's discord_id, or the account linked by
    # /claim) and which role; the guild is the store's at execution time.
    discord_user_id = models.CharField(max_length=20, blank=True)
    discord_role_id = models.CharField(max_length=20, blank=True)
    # Copied from the action at queueing time (catalog.DeliveryAction): changing the product
    # later does not change what an already queued command promises.
    safe_to_repeat = models.BooleanField(default=False)
    delay_after_join = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Executions reported so far; never reset, so (id, attempt) names one execution for good.
    attempt_count = models.PositiveSmallIntegerField(default=0)
    # attempt_count when the owner last pressed "Retry delivery": the store's attempt budget
    # counts from here.
    attempt_base = models.PositiveSmallIntegerField(default=0)
    execute_after = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)
    last_error_code = models.CharField(max_length=64, blank=True)
    output = models.TextField(blank=True)
    executed_by = models.CharField(max_length=64, blank=True)
    # Who the pending command was last handed to, and until when nobody else receives it:
    # the instance id, or "anon:<token>" for a poller without X-Agent-Instance.
    lease_owner = models.CharField(max_length=72, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    review_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["server", "status", "id"]),
            models.Index(fields=["order", "status"]),
            models.Index(fields=["store", "status", "-id"]),
            models.Index(fields=["kind", "status", "execute_after"]),
            models.Index(fields=["customer", "-id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_test(self) -> bool:
        return self.origin == self.Origin.TEST

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED,
                               self.Status.CANCELLED, self.Status.NEEDS_REVIEW)

    @property
    def product_label(self) -> str:
        if self.order_item_id:
            return self.order_item.product_name
        if self.product_id:
            return self.product.name
        return "test command" if self.is_test else "manual command"

    def rendered(self) -> str:
        """The text the agent runs, for people reading the log (never sent to the agent)."""
        values = self.placeholders or {}
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), self.command)


class DeliveryLog(models.Model):
    """What happened to a command, one row per step, for the order's delivery log."""

    class Kind(models.TextChoices):
        QUEUED = "queued"
        CONFIRMED = "confirmed"
        FAILED = "failed"
        RETRY_SCHEDULED = "retry_scheduled"
        DUE_AGAIN = "due_again"
        CANCELLED = "cancelled"
        REQUEUED = "requeued"
        NEEDS_REVIEW = "needs_review"
        MARKED_DELIVERED = "marked_delivered"
        WAITING_CLAIM = "waiting_claim"  # a Discord role waits for the buyer's /claim
        CLAIMED = "claimed"  # /claim linked the buyer: the role is due again
        RATE_LIMITED = "rate_limited"  # Discord said 429: due again after retry_after

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    command = models.ForeignKey(DeliveryCommand, on_delete=models.CASCADE, related_name="log")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=1000, blank=True)
    attempt = models.PositiveSmallIntegerField(default=0)
    actor = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.command_id}"

