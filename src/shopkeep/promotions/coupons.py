"""Coupons: checking a code against a basket, taking a use, giving it back.

A use is taken by one conditional UPDATE (``uses_count < max_uses``) inside the order's
transaction and its row count checked, so the last use of a limited coupon goes to exactly one
of two racing checkouts. Per-customer limits are checked with the customer's row locked, so one
buyer's two parallel checkouts cannot both take their only use.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone

from shopkeep.catalog.models import Product
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.customers.models import Customer
from shopkeep.promotions.models import Coupon, CouponRedemption
from shopkeep.promotions.pricing import ZERO, Quote, discount_amount


class CouponRefused(ServiceError):
    """A code that does not apply; ``message`` is shown to the buyer as it is."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, field="coupon_code")


def normalise_code(raw: str) -> str:
    return "".join(raw.split()).upper()[:40]


def coupon_find(*, store, code: str) -> Coupon:
    code = normalise_code(code or "")
    coupon = (Coupon.objects.filter(store=store, code=code).prefetch_related(
        "products", "categories").first() if code else None)
    if coupon is None or not coupon.is_active:
        raise CouponRefused("coupon_unknown", f"The code {code or '(empty)'} is not valid "
                            "here.")
    return coupon


def _eligible(coupon: Coupon, quote: Quote) -> tuple[Decimal, bool]:
    """The basket total the coupon discounts, and whether sale lines were left out."""
    product_ids = {p.pk for p in coupon.products.all()}
    category_ids = {c.pk for c in coupon.categories.all()}
    base, skipped_sale = ZERO, False
    for line in quote.lines:
        if line.product.type == Product.Type.GIFT_CARD:
            continue  # a card holds what was paid for it: coupons do not buy money cheaper
        if coupon.scope == Coupon.Scope.PRODUCTS and line.product.pk not in product_ids:
            continue
        if (coupon.scope == Coupon.Scope.CATEGORIES
                and line.product.category_id not in category_ids):
            continue
        if line.on_sale and not coupon.combines_with_sales:
            skipped_sale = True
            continue
        base += line.total
    return base, skipped_sale


def coupon_check(*, coupon: Coupon, quote: Quote, email: str = "",
                 at: datetime | None = None) -> Decimal:
    """The discount ``coupon`` gives ``quote``, or ``CouponRefused`` saying why not.

    Read-only: the basket page calls it on every view; ``coupon_take`` repeats the checks
    that can change between the two (uses left) with the rows locked."""
    at = at or timezone.now()
    code = coupon.code
    if coupon.starts_at and at < coupon.starts_at:
        raise CouponRefused("coupon_not_started", f"The code {code} is not valid yet.")
    if coupon.ends_at and at >= coupon.ends_at:
        raise CouponRefused("coupon_expired", f"The code {code} has expired.")
    if coupon.max_uses is not None and coupon.uses_count >= coupon.max_uses:
        raise CouponRefused("coupon_used_up", f"The code {code} has been used up.")
    if email:
        _check_customer(coupon, Customer.objects.filter(
            store_id=coupon.store_id, email=email.strip().lower()).first())
    if quote.subtotal < coupon.min_basket:
        raise CouponRefused("coupon_min_basket", f"The code {code} needs a basket of at least "
                            f"{coupon.min_basket} {quote.currency}.")
    base, skipped_sale = _eligible(coupon, quote)
    if base <= 0:
        if skipped_sale:
            raise CouponRefused("coupon_not_with_sales", f"The code {code} does not combine "
                                "with sale prices, and everything it covers is on sale.")
        raise CouponRefused("coupon_no_items", f"The code {code} does not cover anything in "
                            "your basket.")
    return discount_amount(kind=coupon.kind, value=coupon.value, base=base,
                           currency=quote.currency)


def _check_customer(coupon: Coupon, customer: Customer | None) -> None:
    if customer is None:
        return
    if coupon.max_uses_per_customer is not None:
        used = CouponRedemption.objects.filter(coupon=coupon, customer=customer,
                                               released_at__isnull=True).count()
        if used >= coupon.max_uses_per_customer:
            raise CouponRefused("coupon_customer_limit", f"You have already used the code "
                                f"{coupon.code} as often as it allows.")
    if coupon.first_purchase_only and customer.orders.filter(paid_at__isnull=False).exists():
        raise CouponRefused("coupon_first_purchase", f"The code {coupon.code} is for a first "
                            "purchase only.")


def coupon_apply(*, store, code: str, quote: Quote, email: str = "") -> Quote:
    """Price ``quote`` with the coupon ``code``; an unusable code leaves the price alone and
    says why in ``quote.coupon_message``."""
    if not code:
        return quote
    try:
        coupon = coupon_find(store=store, code=code)
        quote.discount = coupon_check(coupon=coupon, quote=quote, email=email)
    except CouponRefused as exc:
        quote.coupon_message = exc.message
        quote.discount = ZERO
        quote.coupon_code = ""
        return quote
    quote.coupon_code = coupon.code
    quote.total = quote.subtotal - quote.discount
    return quote


def coupon_take(*, coupon: Coupon, customer: Customer, order_number: str, discount,
                quote: Quote) -> CouponRedemption:
    """Take one use for an order. Call inside the order's transaction."""
    # Lock the buyer first: their parallel checkouts queue here, so the per-customer count
    # below is read by one of them at a time.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    coupon.refresh_from_db()
    coupon_check(coupon=coupon, quote=quote)
    _check_customer(coupon, customer)
    taken = (Coupon.objects.filter(pk=coupon.pk, is_active=True)
             .filter(Q(max_uses__isnull=True) | Q(uses_count__lt=F("max_uses")))
             .update(uses_count=F("uses_count") + 1, updated_at=timezone.now()))
    if taken != 1:
        raise Conflict("coupon_used_up", f"The code {coupon.code} has just been used up.",
                       field="coupon_code")
    return CouponRedemption.objects.create(store_id=coupon.store_id, coupon=coupon,
                                           customer=customer, order_number=order_number,
                                           discount=discount)


def coupon_release(*, store, order_number: str) -> bool:
    """An unpaid order gave up: its use counts for nobody. Call inside its transaction."""
    redemption = (CouponRedemption.objects.select_for_update()
                  .filter(store=store, order_number=order_number, released_at__isnull=True)
                  .first())
    if redemption is None:
        return False
    released = (CouponRedemption.objects.filter(pk=redemption.pk, released_at__isnull=True)
                .update(released_at=timezone.now()))
    if released:
        Coupon.objects.filter(pk=redemption.coupon_id, uses_count__gt=0).update(
            uses_count=F("uses_count") - 1)
    return bool(released)
