from __future__ import annotations

from django.db import models
from django.utils import timezone

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
        ]

    def __str__(self) -> str:
        return self.email
