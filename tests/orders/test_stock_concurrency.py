"""50 buyers race for the last 5 units: exactly 5 orders exist and get paid."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shopkeep.catalog.models import Product
from shopkeep.core.errors import Conflict
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line, checkout_start, order_create
from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
from shopkeep.payments.models import SandboxSession
from tests.commerce import buyer, make_product, make_shop

BUYERS = 50
STOCK = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_checkouts_for_five_units_end_with_five_paid_orders():
    store = make_shop()
    product = make_product(store, name="Limited Cape", stock_enabled=True,
                           stock_quantity=STOCK)
    barrier = threading.Barrier(BUYERS)
    created: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def checkout(n: int) -> None:
        try:
            barrier.wait()
            order = order_create(store=store, lines=[Line(product.pk, 1)],
                                 customer=buyer(f"buyer{n}@example.com", f"Buyer_{n}"))
            checkout_start(order=order, success_url="https://x.test/ok",
                           cancel_url="https://x.test/no")
            created.append(order.order_number)
        except Conflict as exc:
            refused.append(exc.code)
        except BaseException as exc:  # surfaced below; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert len(created) == STOCK
    assert refused == ["out_of_stock"] * (BUYERS - STOCK)
    product.refresh_from_db()
    assert product.stock_quantity == 0

    # Every order that got stock can be paid; notices run right away outside a test transaction.
    for session in SandboxSession.objects.filter(reference__in=created):
        ok, message = SandboxGateway().pay(session_id=session.pk, card_number=CARD_OK)
        assert ok, message
    assert Order.objects.filter(store=store).count() == STOCK
    assert Order.objects.filter(store=store, payment_status="paid").count() == STOCK
    assert Product.objects.get(pk=product.pk).stock_quantity == 0
