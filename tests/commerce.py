"""Builders for commerce tests: a test-mode store with products, and sandbox purchases."""

from __future__ import annotations

from decimal import Decimal

from shopkeep.catalog.models import Product
from shopkeep.catalog.services import (
    ActionInput,
    ProductInput,
    delivery_actions_set,
    product_create,
)
from shopkeep.customers.services import CustomerInput
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
from shopkeep.payments.models import SandboxSession
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from tests.factories import make_store, owner_of


def make_shop(**kwargs) -> Store:
    return make_store(**kwargs)  # stores start in test mode


def make_product(store: Store, *, name: str = "VIP Rank", price: str = "29.99",
                 purchase_command: str | None = "say Thanks {player}", **fields) -> Product:
    """A product delivered in game: by default it has one purchase command, so a paid order
    stays ``processing`` until an agent confirms it (with no server, it waits). Pass
    ``purchase_command=None`` for a product with nothing to run."""
    actor = Actor.for_user(owner_of(store))
    product = product_create(store=store, actor=actor,
                             data=ProductInput(name=name, price=price, **fields))
    if purchase_command:
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=[purchase_command])])
    return product


def buyer(email: str = "player@example.com", player: str = "Steve") -> CustomerInput:
    return CustomerInput(email=email, player_name=player, name="John Doe")


def place_order(store: Store, product: Product, *, quantity: int = 1,
                email: str = "player@example.com", **kwargs) -> Order:
    order = order_create(store=store, lines=[Line(product.pk, quantity)], customer=buyer(email),
                         **kwargs)
    checkout_start(order=order, success_url=f"/done/{order.access_key}",
                   cancel_url="/basket")
    order.refresh_from_db()
    return order


def pay(order: Order, card: str = CARD_OK, *, capture) -> tuple[bool, str]:
    """Pay on the sandbox's hosted page; ``capture`` is pytest-django's
    ``django_capture_on_commit_callbacks`` so the gateway's notice is delivered."""
    session = SandboxSession.objects.get(reference=order.order_number)
    with capture(execute=True):
        result = SandboxGateway().pay(session_id=session.pk, card_number=card)
    order.refresh_from_db()
    return result


def paid_order(store: Store, product: Product, *, capture, **kwargs) -> Order:
    order = place_order(store, product, **kwargs)
    ok, message = pay(order, capture=capture)
    assert ok, message
    return order


ZERO = Decimal("0")
