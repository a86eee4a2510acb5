"""The order state machine: stock holds, expiry, late payments, basket rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line, order_create, orders_expire_unpaid
from tests.commerce import buyer, make_product, make_shop, pay, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


def test_an_order_holds_stock_and_expiry_gives_it_back(store):
    product = make_product(store, stock_enabled=True, stock_quantity=3)
    order = place_order(store, product, quantity=2)
    product.refresh_from_db()
    assert product.stock_quantity == 1
    assert orders_expire_unpaid(now=timezone.now() + timedelta(minutes=29)) == 0
    assert orders_expire_unpaid(now=timezone.now() + timedelta(minutes=31)) == 1
    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "cancelled")
    assert product.stock_quantity == 3
    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=2)) == 0
    product.refresh_from_db()
    assert product.stock_quantity == 3  # released once only


def test_a_payment_after_expiry_is_honoured_and_takes_stock_again(
        store, django_capture_on_commit_callbacks):
    product = make_product(store, stock_enabled=True, stock_quantity=1)
    order = place_order(store, product)
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    ok, _ = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok and order.payment_status == "paid" and order.status == "processing"
    product.refresh_from_db()
    assert product.stock_quantity == 0


def test_out_of_stock_refuses_the_order_and_writes_nothing(store):
    product = make_product(store, stock_enabled=True, stock_quantity=1)
    events = Event.objects.count()
    with pytest.raises(Conflict) as exc:
        order_create(store=store, lines=[Line(product.pk, 2)], customer=buyer())
    assert exc.value.code == "out_of_stock"
    assert not Order.objects.exists() and Event.objects.count() == events
    product.refresh_from_db()
    assert product.stock_quantity == 1


@pytest.mark.parametrize("lines,code", [
    ([], "empty_basket"), ([(0, 100)], "invalid_quantity"), ([(0, 0)], "invalid_quantity"),
])
def test_basket_rules(store, lines, code):
    product = make_product(store)
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(product.pk, q) for _, q in lines],
                     customer=buyer())
    assert exc.value.code == code


def test_a_subscription_is_bought_alone(store):
    monthly = make_product(store, name="Monthly", type="subscription", billing_interval="month")
    other = make_product(store, name="Kit")
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(monthly.pk), Line(other.pk)], customer=buyer())
    assert exc.value.code == "subscription_alone"


def test_products_of_another_store_or_off_sale_are_refused(store):
    foreign = make_product(make_shop(), name="Foreign")
    hidden = make_product(store, name="Hidden", is_active=False)
    for product in (foreign, hidden):
        with pytest.raises(ServiceError) as exc:
            order_create(store=store, lines=[Line(product.pk)], customer=buyer())
        assert exc.value.code == "product_unavailable"
    assert not Order.objects.exists()


def test_a_suspended_store_takes_no_orders(store):
    product = make_product(store)
    store.status = "suspended"
    store.save()
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(product.pk)], customer=buyer())
    assert exc.value.code == "store_closed"


def test_yen_orders_have_no_minor_units(django_capture_on_commit_callbacks):
    store = make_shop(currency="JPY")
    product = make_product(store, price="1500")
    order = place_order(store, product, quantity=3)
    assert order.total == 4500
    data = Event.objects.filter(event_type="order.created").latest("id").data
    assert data["total"] == "4500" and data["items"][0]["unit_price"] == "1500"
