from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.customers.identity import PlayerIdentity
from shopkeep.stores.models import Store


class Customer(models.Model):
    """A buyer in one store. The game identity is what delivery commands address."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="customers")
    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    player_name = models.CharField(max_length=32, blank=True)
    minecraft_uuid = models.CharField(max_length=36, blank=True)
    steam_id = models.CharField(max_length=17, blank=True)
    steam_username = models.CharField(max_length=64, blank=True)
    discord_id = models.CharField(max_length=20, blank=True)
    discord_username = models.CharField(max_length=64, blank=True)
    # Set when the Steam id / Discord id above came from the provider itself (the customer
    # signed in with it: docs/steam.md, docs/discord.md). A linked id signs the customer in,
    # is unique in the store, and no typed value or later checkout replaces it.
    steam_linked_at = models.DateTimeField(null=True, blank=True)
    discord_linked_at = models.DateTimeField(null=True, blank=True)
    # When the stored identity was given (sign-up, owner edit, checkout of a paid order): a
    # paid order placed before a newer one was stored does not overwrite it.
    identity_at = models.DateTimeField(null=True, blank=True)
    referral_code = models.CharField(max_length=16)
    referred_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="referrals")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "email"], name="customer_unique_email"),
            models.UniqueConstraint(fields=["store", "referral_code"],
                                    name="customer_unique_referral_code"),
            models.UniqueConstraint(fields=["store", "steam_id"],
                                    condition=models.Q(steam_linked_at__isnull=False),
                                    name="customer_unique_linked_steam"),
            models.UniqueConstraint(fields=["store", "discord_id"],
                                    condition=models.Q(discord_linked_at__isnull=False),
                                    name="customer_unique_linked_discord"),
        ]

    def __str__(self) -> str:
        return self.email


class PlayerSnapshot(models.Model):
    """The game identity frozen at checkout on an order and on its subscription (issue 12).

    Delivery commands take their placeholder values from here and never from the customer
    row, so nothing typed in a later checkout, paid or not, reaches an earlier order's
    refund, chargeback or subscription-end commands.
    """

    game = models.CharField(max_length=16, blank=True)
    player_name = models.CharField(max_length=32, blank=True)
    player_uuid = models.CharField(max_length=36, blank=True)
    player_steam_id = models.CharField(max_length=17, blank=True)
    player_discord_id = models.CharField(max_length=20, blank=True)

    class Meta:
        abstract = True

    @property
    def identity(self) -> PlayerIdentity:
        return PlayerIdentity(game=self.game, player_name=self.player_name,
                              uuid=self.player_uuid, steam_id=self.player_steam_id,
                              discord_id=self.player_discord_id)

    def freeze_identity(self, identity: PlayerIdentity) -> None:
        self.game, self.player_name = identity.game, identity.player_name
        self.player_uuid, self.player_steam_id = identity.uuid, identity.steam_id
        self.player_discord_id = identity.discord_id


class CustomerNote(models.Model):
    """The team's private notes on a customer (never shown to the buyer)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField(max_length=2000)
    author_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note on {self.customer_id}"


class CustomerBan(models.Model):
    """Checkout refuses anyone matching an active ban of the store (customers/bans.py)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        PLAYER = "player", "Player name"
        UUID = "uuid", "Minecraft UUID"
        STEAM_ID = "steam_id", "Steam id"
        DISCORD_ID = "discord_id", "Discord id"
        IP = "ip", "IP address"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="bans")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Normalised (bans.normalise): lower-case e-mail and player name, canonical UUID and IP.
    value = models.CharField(max_length=254)
    reason = models.CharField(max_length=300)
    # What the refused buyer reads at checkout; empty: a neutral sentence.
    public_message = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "kind", "value"],
                                    condition=models.Q(lifted_at__isnull=True),
                                    name="customer_ban_unique_active"),
        ]
        indexes = [models.Index(fields=["store", "kind", "value"])]

    def __str__(self) -> str:
        return f"ban {self.kind}={self.value}"

    @property
    def active(self) -> bool:
        return self.lifted_at is None
