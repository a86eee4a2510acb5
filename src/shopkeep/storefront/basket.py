"""The basket lives in the session, per store: {product id: quantity}. Prices are read
from the catalog at checkout, never from the session."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest

from shopkeep.catalog.models import Product
from shopkeep.orders.services import MAX_LINES, MAX_QUANTITY
from shopkeep.stores.models import Store


@dataclass
class BasketLine:
    product: Product
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.product.price * self.quantity


def _key(store: Store) -> str:
    return f"basket_{store.pk}"


def read(request: HttpRequest, store: Store) -> dict[int, int]:
    raw = request.session.get(_key(store), {})
    basket: dict[int, int] = {}
    for pid, qty in raw.items():
        try:
            basket[int(pid)] = max(1, min(int(qty), MAX_QUANTITY))
        except (TypeError, ValueError):
            continue
    return basket


def write(request: HttpRequest, store: Store, basket: dict[int, int]) -> None:
    request.session[_key(store)] = {str(pid): qty for pid, qty in basket.items() if qty > 0}


def set_quantity(request: HttpRequest, store: Store, product: Product, quantity: int,
                 *, add: bool) -> str:
    """Returns an error message, or '' when the basket changed. Whether the lines can be bought
    together (a subscription on its own, stock) is the checkout service's rule; the basket only
    keeps the session bounded by the same limits the service checks."""
    basket = read(request, store)
    new = basket.get(product.pk, 0) + quantity if add else quantity
    if product.is_subscription:
        new = min(new, 1)  # one subscription at a time; the form offers no quantity
    if new > MAX_QUANTITY:
        return f"At most {MAX_QUANTITY} of one product."
    if new > 0 and product.pk not in basket and len(basket) >= MAX_LINES:
        return f"A basket holds at most {MAX_LINES} products."
    if new <= 0:
        basket.pop(product.pk, None)
    else:
        basket[product.pk] = new
    write(request, store, basket)
    return ""


def lines(request: HttpRequest, store: Store) -> list[BasketLine]:
    basket = read(request, store)
    products = Product.objects.on_sale().filter(store=store, pk__in=basket)
    return [BasketLine(product=p, quantity=basket[p.pk]) for p in products]


def coupon_code(request: HttpRequest, store: Store) -> str:
    value = request.session.get(f"coupon_{store.pk}", "")
    return value if isinstance(value, str) else ""


def set_coupon(request: HttpRequest, store: Store, code: str) -> None:
    """Remember the code the buyer entered; the price is worked out again on every page."""
    code = "".join((code or "").split()).upper()[:40]
    if code:
        request.session[f"coupon_{store.pk}"] = code
    else:
        request.session.pop(f"coupon_{store.pk}", None)


def clear(request: HttpRequest, store: Store) -> None:
    request.session.pop(_key(store), None)
    request.session.pop(f"coupon_{store.pk}", None)
