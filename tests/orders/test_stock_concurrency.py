"""Buyers race for the last units: exactly as many orders as units exist and get paid."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shopkeep.catalog.models import Product
from shopkeep.core.errors import Conflict
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
from shopkeep.payments.models import SandboxSession
from tests.commerce import buyer, make_product, make_shop

BUYERS = 50
STOCK = 5


def _race(buyers: int, stock: int) -> tuple[list[str], list[str], list[BaseException], int]:
    """``buyers`` threads check out one unit each at the same moment; returns what happened."""
    store = make_shop()
    product = make_product(store, name="Limited Cape", stock_enabled=True, stock_quantity=stock)
    barrier = threading.Barrier(buyers)
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

    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return created, refused, errors, product.pk


def _pay_all(created: list[str]) -> None:
    # Notices run right away: outside a test transaction on_commit fires at once.
    for session in SandboxSession.objects.filter(reference__in=created):
        ok, message = SandboxGateway().pay(session_id=session.pk, card_number=CARD_OK)
        assert ok, message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_checkouts_for_five_units_end_with_five_paid_orders():
    created, refused, errors, product_pk = _race(BUYERS, STOCK)
    assert not errors, errors
    assert len(created) == STOCK
    assert refused == ["out_of_stock"] * (BUYERS - STOCK)
    assert Product.objects.get(pk=product_pk).stock_quantity == 0
    _pay_all(created)
    assert Order.objects.count() == STOCK
    assert Order.objects.filter(payment_status="paid").count() == STOCK
    assert sorted(Order.objects.values_list("order_number", flat=True)) == sorted(created)
    # stock_quantity is a PositiveIntegerField: PostgreSQL's CHECK (>= 0) would have failed
    # any decrement below zero, so "never negative" held throughout, not only at the end.
    assert Product.objects.get(pk=product_pk).stock_quantity == 0


# No SQLite variant: the test database is SQLite's shared-cache in-memory database, where a
# second writer gets SQLITE_LOCKED ("database table is locked") at once instead of waiting out
# the busy timeout, so threads fail rather than queue. The production file database (WAL,
# IMMEDIATE transactions, busy timeout) serialises writers; the conditional UPDATE is the same.
