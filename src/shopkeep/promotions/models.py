"""Coupons, sales and gift cards (with a ledger).

Counters and balances (``Coupon.uses_count``, ``GiftCard.balance``) are only ever changed by a
conditional UPDATE whose row count is checked (see ``coupons.py`` and ``giftcards.py``), so two
buyers racing for the last use or the last euro cannot both win; CHECK constraints back that up.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from shopkeep.catalog.models import Category, Product
from shopkeep.customers.models import Customer
from shopkeep.stores.models import Store


class DiscountKind(models.TextChoices):
    PERCENT = "percent", "Percentage"
    FIXED = "fixed", "Fixed amount"


class Coupon(models.Model):
    class Scope(models.TextChoices):
        BASKET = "basket", "Whole basket"
        PRODUCTS = "products", "Chosen products"
        CATEGORIES = "categories", "Chosen categories"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="coupons")
    # Stored upper-case: codes are matched case-insensitively.
    code = models.CharField(max_length=40)
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=8, choices=DiscountKind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.BASKET)
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    min_basket = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses_count = models.PositiveIntegerField(default=0)
    max_uses_per_customer = models.PositiveIntegerField(null=True, blank=True)
    first_purchase_only = models.BooleanField(default=False)
    combines_with_sales = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Upper("code"), "store", name="coupon_unique_code"),
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True) | models.Q(
                    uses_count__lte=models.F("max_uses")),
                name="coupon_uses_within_max"),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="coupon_value_gt_0"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def uses_left(self) -> int | None:
        return None if self.max_uses is None else max(self.max_uses - self.uses_count, 0)


class CouponRedemption(models.Model):
    """One use of a coupon by an order; ``released_at`` when an unpaid order gives it back.

    The order is named by number, not by foreign key: promotions sits below orders."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="redemptions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    order_number = models.CharField(max_length=14)
    discount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["coupon", "order_number"],
                                    name="coupon_redemption_once_per_order"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id} on {self.order_number}"


class Sale(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sales")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=DiscountKind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    all_products = models.BooleanField(default=False)
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["store", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="sale_ends_after_start"),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="sale_value_gt_0"),
        ]

    def __str__(self) -> str:
        return self.name


class GiftCard(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="gift_cards")
    # Stored upper-case without separators; shown in groups of four.
    code = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    initial_balance = models.DecimalField(max_digits=12, decimal_places=2)
    balance = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    issued_by = models.CharField(max_length=200)
    # The order that bought it, when sold as a product.
    source_order_number = models.CharField(max_length=14, blank=True)
    recipient_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="gift_card_unique_code"),
            models.CheckConstraint(condition=models.Q(balance__gte=0),
                                   name="gift_card_balance_gte_0"),
        ]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        return "-".join(self.code[i:i + 4] for i in range(0, len(self.code), 4))

    @property
    def masked_code(self) -> str:
        return f"…{self.code[-4:]}"


class GiftCardTransaction(models.Model):
    """The ledger: one row for every change of a balance; they sum to the balance."""

    class Kind(models.TextChoices):
        ISSUE = "issue", "Issued"
        DEBIT = "debit", "Spent on an order"
        CREDIT = "credit", "Credited back (order not paid)"
        REFUND = "refund", "Credited back (refund)"
        ADJUST = "adjust", "Adjusted by the store"
        # A card bought as a product whose order is refunded: its unspent balance is voided.
        VOID = "void", "Voided (its purchase was refunded)"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(GiftCard, on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Signed: debits are negative.
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    order_number = models.CharField(max_length=14, blank=True)
    note = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["card", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} on card {self.card_id}"


class CreatorCode(models.Model):
    """A content creator's code a buyer enters at checkout; the owner sees sales per creator."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="creator_codes")
    code = models.CharField(max_length=40)  # upper-case; matched case-insensitively
    name = models.CharField(max_length=100)
    # Optional: the creator's share of revenue, shown in the report (paid out by the owner).
    share_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="creator_code_unique"),
            models.CheckConstraint(condition=models.Q(share_percent__gte=0,
                                                      share_percent__lte=100),
                                   name="creator_share_0_to_100"),
        ]

    def __str__(self) -> str:
        return self.code


class TierGroup(models.Model):
    """Ranks that build on each other (VIP < MVP < Legend): a buyer who holds a lower tier
    pays the difference for a higher one, and the lower tier's take-back commands run before
    the higher tier's purchase commands (docs/promotions.md, "Tiered upgrades")."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="tier_groups")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="tier_group_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """One product's place in its group; rank 1 is the lowest. A product is in one group."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(TierGroup, on_delete=models.CASCADE, related_name="tiers")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()

    class Meta:
        ordering = ["group_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["product"], name="tier_product_in_one_group"),
            models.UniqueConstraint(fields=["group", "rank"], name="tier_unique_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}#{self.rank}"
