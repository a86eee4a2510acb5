"""Customer sign-in with Discord (OAuth 2.0) and Steam (OpenID 2.0): per-store options and
the one-time records of each sign-in in flight."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.stores.models import Store


class Provider(models.TextChoices):
    DISCORD = "discord", "Discord"
    STEAM = "steam", "Steam"


class SigninSettings(models.Model):
    """Settings > Sign-in. Without a row a store offers what the platform has configured."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE,
                                 related_name="signin_settings")
    discord_enabled = models.BooleanField(default=True)
    steam_enabled = models.BooleanField(default=True)
    # Every purchase needs a Steam sign-in (a Steam game's store: the Steam64 id comes from
    # Steam instead of being typed).
    steam_required = models.BooleanField(default=False)
    # The store's own Discord application instead of the platform's; the secret is sealed
    # (payments.sealed, bound to this row and field) and never shown again.
    discord_client_id = models.CharField(max_length=20, blank=True)
    discord_client_secret = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"sign-in settings of store {self.store_id}"

    def seal_context(self) -> str:
        return f"signin:{self.store_id}:discord_client_secret"


class SigninAttempt(models.Model):
    """One sign-in in flight, used at most once.

    ``state`` travels to the provider and back; ``binding_hash`` is the digest of a secret kept
    in the browser session that started it, and ``ticket_hash`` the digest of a secret handed
    only to the browser the provider sent back. Finishing needs both, so neither a link sent
    to a victim nor a stolen callback signs anyone into another person's account.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    state = models.CharField(max_length=64, unique=True)
    binding_hash = models.CharField(max_length=64)
    ticket_hash = models.CharField(max_length=64, blank=True)
    next_path = models.CharField(max_length=500, blank=True)
    finish_url = models.TextField()
    redirect_uri = models.TextField(blank=True)
    code_verifier = models.CharField(max_length=128, blank=True)
    # "platform" or "store": which Discord application the code belongs to.
    app_source = models.CharField(max_length=16, blank=True)
    uid = models.CharField(max_length=20, blank=True)
    username = models.CharField(max_length=64, blank=True)
    email = models.EmailField(blank=True)
    email_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.provider} sign-in {self.pk}"


class OpenIDNonce(models.Model):
    """Response nonces of Steam assertions already accepted: a replayed one is refused."""

    server_url = models.CharField(max_length=255)
    timestamp = models.BigIntegerField()
    salt = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["server_url", "timestamp", "salt"],
                                               name="openid_nonce_unique")]

    def __str__(self) -> str:
        return f"{self.server_url} {self.timestamp} {self.salt}"
