from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from shopkeep.catalog.models import Product
from shopkeep.customers.models import Customer, PlayerSnapshot
from shopkeep.promotions.models import GiftCard
from shopkeep.stores.models import Store


class Order(PlayerSnapshot):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"  # paid, commands being delivered
        COMPLETED = "completed"  # paid and fully delivered
        REFUNDED = "refunded"
        PARTIALLY_REFUNDED = "partially_refunded"
        DISPUTED = "disputed"
        CANCELLED = "cancelled"  # never paid; stock released
        FAILED = "failed"

    class PaymentStatus(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        FAILED = "failed"
        REFUNDED = "refunded"
        PARTIALLY_REFUNDED = "partially_refunded"
        DISPUTED = "disputed"
        CANCELLED = "cancelled"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    order_number = models.CharField(max_length=14, unique=True)
    # The capability in the order status link; 32 random characters, never sequential.
    access_key = models.CharField(max_length=40, unique=True)
    customer_email = models.EmailField()
    customer_name = models.CharField(max_length=150, blank=True)
    customer_phone = models.CharField(max_length=32, blank=True)
    customer_country = models.CharField(max_length=2, blank=True)
    billing_address = models.JSONField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    # Pricing facts frozen at checkout: the coupon's discount (subtotal - discount + tax when
    # prices exclude tax = total), and the share of the total a gift card paid.
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    coupon_code = models.CharField(max_length=40, blank=True)
    gift_card = models.ForeignKey(GiftCard, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="orders")
    gift_card_amount = models.DecimalField(max_digits=12, decimal_places=2,
                                           default=Decimal("0"))
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0"))
    tax_country = models.CharField(max_length=2, blank=True)
    tax_region = models.CharField(max_length=64, blank=True)
    tax_inclusive = models.BooleanField(default=False)
    vat_number = models.CharField(max_length=20, blank=True)
    reverse_charge = models.BooleanField(default=False)
    creator_code = models.CharField(max_length=40, blank=True)
    # The buyer ticked "remind me if I do not finish": one abandoned-basket e-mail, if the
    # store sends them (notifications/scheduled.py).
    basket_reminder = models.BooleanField(default=False)
    # The buyer's own choice at checkout to appear (player name and product only) in the
    # store's "recent purchases" and "top supporter" widgets. Off unless they tick it; the
    # buyer's latest order decides, so opting out later hides the earlier ones too.
    show_in_widgets = models.BooleanField(default=False)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    payment_status = models.CharField(max_length=24, choices=PaymentStatus.choices,
                                      default=PaymentStatus.PENDING)
    payment_gateway = models.CharField(max_length=32)
    gateway_session_id = models.CharField(max_length=128, blank=True)
    gateway_payment_id = models.CharField(max_length=128, blank=True)
    is_test_order = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    # Stock held for this unpaid order is released when the hold runs out.
    reserved_until = models.DateTimeField(null=True, blank=True)
    stock_released = models.BooleanField(default=False)
    paid_at = models.DateTimeField(null=True, blank=True)
    # The last payment attempt was declined (a fact for orders/lifecycle.py).
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"]),
                   models.Index(fields=["status", "reserved_until"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(refunded_amount__lte=models.F("total")),
                                   name="order_refund_within_total"),
        ]

    def __str__(self) -> str:
        return self.order_number

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def amount_due(self) -> Decimal:
        """What the payment gateway charges: the total less the gift card's share."""
        return self.total - self.gift_card_amount

    @property
    def refundable_amount(self) -> Decimal:
        return self.total - self.refunded_amount if self.is_paid else Decimal("0")


class OrderItem(models.Model):
    class DeliveryStatus(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"
        CANCELLED = "cancelled"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    # Snapshots: the product may be renamed, repriced or deleted after the sale.
    product_name = models.CharField(max_length=120)
    product_type = models.CharField(max_length=16)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    # The catalogue price before a sale; equal to unit_price when nothing was on sale.
    list_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    sale_name = models.CharField(max_length=100, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    # Tiered upgrades: the lower tier's item this one replaces and the credit it gave
    # (``unit_price`` is already net of it). ``upgraded_by`` on the lower item is the claim:
    # set by a conditional UPDATE when an order takes the credit, so two orders cannot both
    # upgrade from one tier; cleared when an unpaid order gives up.
    upgrade_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    upgrade_credit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    upgraded_by = models.CharField(max_length=14, blank=True)
    delivery_status = models.CharField(max_length=16, choices=DeliveryStatus.choices,
                                       default=DeliveryStatus.PENDING)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product_name} x{self.quantity}"


class Refund(models.Model):
    """Requested in a transaction, executed at the gateway by the worker, then settled."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The part of ``amount`` credited back to the order's gift card rather than the gateway.
    gift_card_amount = models.DecimalField(max_digits=12, decimal_places=2,
                                           default=Decimal("0"))
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    gateway_refund_id = models.CharField(max_length=128, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.amount} on order {self.order_id} ({self.status})"


class IdempotencyKey(models.Model):
    """The stored answer to a POST made with an ``Idempotency-Key``; a retry gets it again."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return self.key


class TaxSettings(models.Model):
    """A store's tax rules. Without a row, or disabled, no tax is charged."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="tax_settings")
    enabled = models.BooleanField(default=False)
    # True: catalogue prices already contain tax (the EU consumer norm); False: tax is added.
    prices_include_tax = models.BooleanField(default=True)
    # Where the store is established: a valid EU VAT number from another EU country gets the
    # reverse charge (no VAT charged; the buyer accounts for it).
    home_country = models.CharField(max_length=2, blank=True)
    reverse_charge = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"tax settings of {self.store_id}"


class TaxRate(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="tax_rates")
    country = models.CharField(max_length=2)
    # Blank: the whole country; otherwise a region (US state, Canadian province) code.
    region = models.CharField(max_length=64, blank=True)
    rate = models.DecimalField(max_digits=6, decimal_places=3)
    label = models.CharField(max_length=40, default="VAT")

    class Meta:
        ordering = ["country", "region"]
        constraints = [
            models.UniqueConstraint(fields=["store", "country", "region"],
                                    name="tax_rate_unique_place"),
            models.CheckConstraint(condition=models.Q(rate__gte=0, rate__lte=100),
                                   name="tax_rate_0_to_100"),
        ]

    def __str__(self) -> str:
        return f"{self.country}{'-' + self.region if self.region else ''} {self.rate}%"
