"""Per-store storefront state: the Store Builder's draft and published settings, Markdown
pages, custom domains. Themes themselves are code (packages the operator installs), so only
the choice of theme and its settings live here."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from shopkeep.stores.models import Store


def _verification_token() -> str:
    return f"shopkeep-verify={secrets.token_hex(16)}"


class StorefrontSettings(models.Model):
    """One row per store. ``draft`` is what the owner edits and previews; ``published`` is
    what buyers see; publishing copies one onto the other and bumps ``version`` (which the
    page cache and the stylesheet URL are keyed on)."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="storefront")
    draft = models.JSONField(default=dict, blank=True)
    published = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)
    # Maintenance applies at once (it is an operational switch, not a design change).
    maintenance_enabled = models.BooleanField(default=False)
    maintenance_message = models.CharField(max_length=500, blank=True)
    maintenance_retry_minutes = models.PositiveIntegerField(default=30)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"storefront of {self.store_id}"

    @property
    def has_unpublished_changes(self) -> bool:
        return self.draft != self.published


class StorePage(models.Model):
    """A Markdown page (rules, terms, refund policy, FAQ) shown in the store's navigation."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="pages")
    title = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    body = models.TextField(blank=True, help_text="Markdown")
    body_html = models.TextField(blank=True, editable=False)
    # Unpublished pages are visible only in the owner's preview.
    is_published = models.BooleanField(default=False)
    show_in_nav = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sort_order", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "slug"], name="store_page_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.title


class StoreDomain(models.Model):
    """A custom host name (``shop.example.com``) the owner proves with a CNAME to the
    platform and a TXT token; served only once verified."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for DNS"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Check failed"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="domains")
    hostname = models.CharField(max_length=253, unique=True)
    verification_token = models.CharField(max_length=64, default=_verification_token)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    last_error = models.CharField(max_length=300, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["hostname"]
        constraints = [
            # The owner's chosen main address: canonical links use it, the store's other
            # hosts redirect to it. One per store, whatever two requests do at once.
            models.UniqueConstraint(fields=["store"], condition=models.Q(is_primary=True),
                                    name="one_primary_domain_per_store"),
        ]

    def __str__(self) -> str:
        return self.hostname

    @property
    def txt_name(self) -> str:
        return f"_shopkeep-challenge.{self.hostname}"
