"""What a basket costs: sale prices per line, then a coupon, then gift cards pay part or all.

One function prices a basket for the basket page, the checkout page and ``order_create``, so
the price shown is the price charged. Nothing here writes; ``coupons.coupon_take`` and
``giftcards.gift_card_debit`` make the uses and debits, inside the order's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from shopkeep.catalog.models import Product
from shopkeep.core.money import quantize
from shopkeep.promotions.models import DiscountKind, Sale
from shopkeep.stores.models import Store

ZERO = Decimal("0")


def discount_amount(*, kind: str, value: Decimal, base: Decimal, currency: str) -> Decimal:
    """A percentage or fixed discount of ``base``, never more than ``base``."""
    if base <= 0:
        return ZERO
    if kind == DiscountKind.PERCENT:
        amount = quantize(base * min(value, Decimal("100")) / Decimal("100"), currency)
    else:
        amount = quantize(value, currency)
    return min(amount, base)


@dataclass
class PricedLine:
    product: Product
    quantity: int
    list_price: Decimal  # the catalogue price
    unit_price: Decimal  # after the best running sale, and after an upgrade's credit
    sale: Sale | None = None
    # A tier upgrade: what holding the lower tier took off the unit price, and its name.
    upgrade_credit: Decimal = ZERO
    upgrade_from_name: str = ""

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def list_total(self) -> Decimal:
        return self.list_price * self.quantity

    @property
    def on_sale(self) -> bool:
        return self.sale is not None


@dataclass
class Quote:
    currency: str
    lines: list[PricedLine]
    subtotal: Decimal = ZERO  # sum of line totals at sale prices
    discount: Decimal = ZERO  # the coupon's
    coupon_code: str = ""
    coupon_message: str = ""  # why an entered code does not apply, for the buyer
    tax: Decimal = ZERO
    tax_rate: Decimal = ZERO
    tax_inclusive: bool = False
    tax_label: str = ""
    total: Decimal = ZERO  # what the buyer owes, all payment methods together
    gift_card: Decimal = ZERO  # paid by gift card
    notes: list[str] = field(default_factory=list)

    @property
    def sale_savings(self) -> Decimal:
        return sum((line.list_total - line.total - line.upgrade_credit * line.quantity
                    for line in self.lines), ZERO)

    @property
    def upgrade_credit(self) -> Decimal:
        return sum((line.upgrade_credit * line.quantity for line in self.lines), ZERO)

    @property
    def amount_due(self) -> Decimal:
        """What is left for the card payment after gift cards."""
        return self.total - self.gift_card


def running_sales(*, store: Store, at: datetime | None = None):
    at = at or timezone.now()
    return (Sale.objects.filter(store=store, is_active=True, starts_at__lte=at, ends_at__gt=at)
            .prefetch_related("products", "categories"))


def _applies(sale: Sale, product: Product) -> bool:
    if sale.all_products:
        return True
    if any(p.pk == product.pk for p in sale.products.all()):
        return True
    return product.category_id is not None and any(
        c.pk == product.category_id for c in sale.categories.all())


def sale_price(*, product: Product, sales, currency: str) -> tuple[Decimal, Sale | None]:
    """The lowest price any running sale gives ``product`` (sales do not stack). Gift cards
    are never on sale: a card holds what was paid for it."""
    best, best_sale = product.price, None
    if product.type == Product.Type.GIFT_CARD:
        return best, best_sale
    for sale in sales:
        if not _applies(sale, product):
            continue
        price = product.price - discount_amount(kind=sale.kind, value=sale.value,
                                                base=product.price, currency=currency)
        if price < best:
            best, best_sale = price, sale
    return best, best_sale


def price_products(*, store: Store, products: list[Product], at: datetime | None = None
                   ) -> dict[int, tuple[Decimal, Sale | None]]:
    """Sale prices for a page of products (the storefront's struck-through prices)."""
    sales = list(running_sales(store=store, at=at))
    return {p.pk: sale_price(product=p, sales=sales, currency=store.currency) for p in products}


def price_lines(*, store: Store, items: list[tuple[Product, int]],
                at: datetime | None = None) -> Quote:
    prices = price_products(store=store, products=[p for p, _ in items], at=at)
    lines = [PricedLine(product=p, quantity=q, list_price=p.price, unit_price=prices[p.pk][0],
                        sale=prices[p.pk][1]) for p, q in items]
    quote = Quote(currency=store.currency, lines=lines)
    quote.subtotal = quantize(sum((line.total for line in lines), ZERO), store.currency)
    quote.total = quote.subtotal
    return quote

