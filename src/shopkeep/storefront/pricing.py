"""What a product card and page show about price and delivery.

``price_display`` is the one place the storefront asks "what does this cost right now": it
reads the running sales from the promotions pricing service and hands themes a
``compare_at`` price to strike through. Checkout prices come from the orders service (its
quote), never from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import strip_tags

from shopkeep.catalog.models import DeliveryAction, Product
from shopkeep.customers.models import Customer
from shopkeep.payments.upgrades import upgrade_offers
from shopkeep.promotions.pricing import price_products
from shopkeep.stores.models import Store
from shopkeep.themes.public_urls import store_public_url


@dataclass(frozen=True)
class PriceDisplay:
    price: Decimal
    currency: str
    # The price before a sale, shown struck through; None when nothing is discounted.
    compare_at: Decimal | None = None
    label: str = ""  # the sale's name
    ends_at: datetime | None = None
    # A signed-in customer who holds a lower tier: what upgrading costs, and from what.
    upgrade_price: Decimal | None = None
    upgrade_from: str = ""

    @property
    def on_sale(self) -> bool:
        return self.compare_at is not None and self.compare_at > self.price


def price_display(*, store: Store, products: list[Product],
                  customer: Customer | None = None) -> dict[int, PriceDisplay]:
    """``customer``: only for pages that are never cached (a session cookie bypasses the
    page cache), since an upgrade price is personal."""
    prices = price_products(store=store, products=products)
    offers = upgrade_offers(store=store, customer=customer, products=products)
    shown = {}
    for p in products:
        price, sale = prices[p.pk]
        offer = offers.get(p.pk)
        upgrade = ({"upgrade_price": offer.price, "upgrade_from": offer.from_name}
                   if offer is not None else {})
        if sale is not None and price < p.price:
            shown[p.pk] = PriceDisplay(price=price, currency=p.currency, compare_at=p.price,
                                       label=sale.name, ends_at=sale.ends_at, **upgrade)
        else:
            shown[p.pk] = PriceDisplay(price=p.price, currency=p.currency, **upgrade)
    return shown


@dataclass(frozen=True)
class DeliveryInfo:
    servers: list[str]
    all_servers: bool
    commands: int
    require_online: bool


def product_delivery(product: Product) -> DeliveryInfo | None:
    """Which servers the purchase reaches and whether the buyer must be online: told in
    plain words on the product page. None for products with no in-game commands."""
    actions = list(DeliveryAction.objects.filter(product=product, trigger="purchase",
                                                 kind=DeliveryAction.Kind.COMMANDS)
                   .prefetch_related("servers"))
    if not actions:
        return None
    all_servers = any(a.all_servers for a in actions)
    names = sorted({s.name for a in actions if not a.all_servers for s in a.servers.all()
                    if s.removed_at is None})
    return DeliveryInfo(servers=names, all_servers=all_servers,
                        commands=sum(len(a.commands or []) for a in actions),
                        require_online=any(a.require_online for a in actions))


def product_jsonld(request: HttpRequest, store: Store, product: Product,
                   pictures: list | None = None) -> dict:
    """schema.org Product with its Offer, for search engines' rich results."""
    display = getattr(product, "display", None) or price_display(
        store=store, products=[product])[product.pk]
    url = store_public_url(store, f"/p/{product.slug}/")
    data: dict = {
        "@context": "https://schema.org", "@type": "Product", "name": product.name,
        "description": " ".join(strip_tags(product.description_html).split())[:500]
        or product.name,
        "sku": str(product.pk), "url": url,
        "brand": {"@type": "Brand", "name": store.name},
        "offers": {"@type": "Offer", "price": str(display.price),
                   "priceCurrency": product.currency, "url": url,
                   "availability": "https://schema.org/InStock" if product.in_stock
                   else "https://schema.org/OutOfStock"},
    }
    images = [product.image] if product.image else []
    images += [picture.image for picture in pictures or []]
    if images:
        data["image"] = [request.build_absolute_uri(product_image_url(i)) for i in images]
    return data


def product_image_url(field) -> str:
    name = (getattr(field, "name", "") or "").rsplit("/", 1)[-1]
    return reverse("product_image", args=[name]) if name else ""
