from __future__ import annotations

from django.db import models
from django.utils import timezone

from shopkeep.stores.models import Store


class Category(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sort_order", "name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["store", "slug"], name="category_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet):
    def alive(self) -> ProductQuerySet:
        return self.filter(deleted_at__isnull=True)

    def on_sale(self) -> ProductQuerySet:
        return self.alive().filter(is_active=True)


class Product(models.Model):
    class Type(models.TextChoices):
        # Seed 002 calls a one-off purchase delivered in game "digital"; files are "download".
        DIGITAL = "digital", "One-time"
        SUBSCRIPTION = "subscription", "Subscription"
        DOWNLOAD = "download", "Digital download"
        # Buying one issues a gift card for the product's price (docs/promotions.md).
        GIFT_CARD = "gift_card", "Gift card"

    class Interval(models.TextChoices):
        WEEK = "week", "Weekly"
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="products")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120)
    description = models.TextField(blank=True, help_text="Markdown")
    description_html = models.TextField(blank=True, editable=False)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.DIGITAL)
    billing_interval = models.CharField(max_length=8, choices=Interval.choices, blank=True)
    trial_days = models.PositiveIntegerField(default=0)
    image = models.FileField(upload_to="product-images/", blank=True)
    download = models.FileField(upload_to="downloads/", blank=True)
    is_active = models.BooleanField(default=True)
    is_featured = models.BooleanField(default=False)
    stock_enabled = models.BooleanField(default=False)
    stock_quantity = models.PositiveIntegerField(null=True, blank=True)
    sort_order = models.IntegerField(default=0)
    # The buyer must sign in with the provider before checkout, so the id a delivery needs
    # comes from Discord or Steam and not from a typed field (catalog.selectors.required_signins).
    requires_discord_signin = models.BooleanField(default=False)
    requires_steam_signin = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "name", "id"]
        constraints = [
            # A deleted product frees its slug for a new one.
            models.UniqueConstraint(fields=["store", "slug"], name="product_unique_live_slug",
                                    condition=models.Q(deleted_at__isnull=True)),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_subscription(self) -> bool:
        return self.type == self.Type.SUBSCRIPTION

    @property
    def in_stock(self) -> bool:
        return not self.stock_enabled or (self.stock_quantity or 0) > 0


class DeliveryAction(models.Model):
    """What a product delivers for one notification type of seed 001: game commands the
    agent runs, or Discord roles the platform's worker adds (purchase) or removes (refund,
    chargeback, subscription end) through Discord's REST API (docs/discord.md)."""

    class Kind(models.TextChoices):
        COMMANDS = "commands", "Game commands"
        DISCORD_ROLE = "discord_role", "Discord role"

    class Trigger(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        REFUND = "refund", "Refund"
        CHARGEBACK = "chargeback", "Chargeback"
        SUBSCRIPTION_CANCEL = "subscription_cancel", "Subscription cancel"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE,
                                related_name="delivery_actions")
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMMANDS)
    # Discord role ids (snowflakes as strings, never names: names change, ids do not).
    role_ids = models.JSONField(default=list, blank=True)
    commands = models.JSONField(default=list, help_text="Command templates with placeholders")
    # all_servers=False targets ``servers`` (at least one; the service refuses none). A lazy
    # reference: the delivery app sits above the catalog and imports it, not the other way.
    all_servers = models.BooleanField(default=True)
    servers = models.ManyToManyField("delivery.GameServer", blank=True, related_name="+")
    require_online = models.BooleanField(default=False)
    repeat_per_quantity = models.BooleanField(default=False)
    # The owner's word that running these commands twice has the effect of running them once
    # (setting a rank, a permission): after an agent crash mid-execution they run again
    # instead of waiting for review. Off by default; the editor suggests it (safe_repeat.py).
    safe_to_repeat = models.BooleanField(default=False)
    # Seconds the agent waits after it first sees the player online (require_online only):
    # some plugins load a player's data a moment after the join.
    delay_after_join = models.PositiveIntegerField(default=0)
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["product_id", "trigger", "sort_order", "id"]

    def __str__(self) -> str:
        return f"{self.product} {self.trigger}"


class ProductImage(models.Model):
    """One more picture of a product, after its cover (``Product.image``): the product
    page's gallery. Ordered by ``position``; ``alt_text`` is what screen readers say."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="gallery")
    image = models.FileField(upload_to="product-images/")
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["product", "position"])]

    def __str__(self) -> str:
        return self.alt_text or self.image.name
