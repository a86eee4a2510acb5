"""A store's Discord bot (Settings > Discord) and the /claim links of its buyers."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.orders.models import Order
from shopkeep.stores.models import Store


class DiscordSettings(models.Model):
    """The bot token is sealed (``payments.sealed``) and never shown again; only its last
    four characters are. The check's findings are written by the worker (``check.py``)."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="discord")
    guild_id = models.CharField(max_length=21, blank=True)
    # Learned from the token by the check (GET /applications/@me) unless the owner gave it.
    application_id = models.CharField(max_length=21, blank=True)
    public_key = models.CharField(max_length=64, blank=True)  # hex Ed25519, from the portal
    bot_token_sealed = models.TextField(blank=True)
    bot_token_last4 = models.CharField(max_length=4, blank=True)
    bot_user_id = models.CharField(max_length=21, blank=True)
    bot_username = models.CharField(max_length=64, blank=True)
    guild_name = models.CharField(max_length=100, blank=True)
    # The guild's roles as the last check saw them: [{"id", "name", "position", "managed",
    # "assignable"}], highest first. The role picker offers these.
    roles = models.JSONField(default=list, blank=True)
    # [{"code", "message"}]; empty with checked_at set means all is well.
    problems = models.JSONField(default=list, blank=True)
    command_registered = models.BooleanField(default=False)
    check_requested_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"discord of {self.store}"

    def seal_context(self) -> str:
        return f"discord:{self.store_id}:bot_token"

    @property
    def configured(self) -> bool:
        return bool(self.bot_token_sealed and self.guild_id)

    @property
    def check_running(self) -> bool:
        return self.check_requested_at is not None and (
            self.checked_at is None or self.checked_at < self.check_requested_at)

    def role_name(self, role_id: str) -> str:
        for role in self.roles or []:
            if role.get("id") == role_id:
                return str(role.get("name") or role_id)
        return role_id


class DiscordClaim(models.Model):
    """An order linked to a Discord account by /claim: one account per order, so a second
    person who learns the order number and e-mail cannot take the roles over."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="discord_claim")
    discord_user_id = models.CharField(max_length=21)
    discord_username = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=16)  # "checkout" (same account) or "order_number"
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["store", "discord_user_id"])]

    def __str__(self) -> str:
        return f"{self.order_id} -> {self.discord_user_id}"


class ClaimFollowup(models.Model):
    """A /claim answered "assigning now": once the worker has tried those roles it sends the
    buyer a second ephemeral message saying what became of each (Discord keeps an
    interaction's token for 15 minutes)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    application_id = models.CharField(max_length=21)
    interaction_token = models.CharField(max_length=500)
    command_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return f"follow-up of /claim {self.pk}"
