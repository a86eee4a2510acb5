"""Sales: the best running sale sets the price, and the price charged is the one shown when
the order was created."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopkeep.core.errors import ServiceError
from shopkeep.orders.services import Line, order_quote
from shopkeep.payments.flows import order_create
from shopkeep.payments.models import SandboxCharge
from shopkeep.promotions.models import Sale
from shopkeep.promotions.pricing import price_products
from shopkeep.promotions.services import SaleInput, sale_create, sale_delete
from tests.commerce import buyer, make_product, make_shop, pay
from tests.promotions.helpers import make_sale, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def product(store):
    return make_product(store, price="20.00")


def test_a_running_sale_lowers_the_price_and_names_itself(store, product):
    sale = make_sale(store, value="25")
    price, applied = price_products(store=store, products=[product])[product.pk]
    assert (price, applied) == (Decimal("15.00"), sale)


def test_a_sale_not_started_or_ended_changes_nothing(store, product):
    make_sale(store, started_hours_ago=-1, hours=5)  # starts in an hour
    make_sale(store, started_hours_ago=10, hours=-1)  # ended an hour ago
    assert price_products(store=store, products=[product])[product.pk] == (
        Decimal("20.00"), None)


def test_sales_do_not_stack_the_deepest_one_wins(store, product):
    make_sale(store, value="10")
    best = make_sale(store, kind="fixed", value="7.50", product_ids=[product.pk])
    assert price_products(store=store, products=[product])[product.pk] == (
        Decimal("12.50"), best)


def test_a_category_sale_covers_only_its_category(store):
    from shopkeep.catalog.services import category_create

    ranks = category_create(store=store, actor=owner(store), name="Ranks")
    rank = make_product(store, name="Rank", price="10.00", category_id=ranks.pk)
    key = make_product(store, name="Key", price="10.00")
    make_sale(store, category_ids=[ranks.pk], value="50")
    prices = price_products(store=store, products=[rank, key])
    assert (prices[rank.pk][0], prices[key.pk][0]) == (Decimal("5.00"), Decimal("10.00"))


def test_the_order_keeps_the_sale_price_when_the_sale_ends_during_payment(
        store, product, django_capture_on_commit_callbacks):
    sale = make_sale(store, value="50")
    quote = order_quote(store=store, lines=[Line(product.pk, 2)])
    order = order_create(store=store, lines=[Line(product.pk, 2)], customer=buyer())
    from shopkeep.payments.flows import checkout_start

    checkout_start(order=order, success_url="https://x.test/ok", cancel_url="https://x.test/no")
    item = order.items.get()
    assert (item.unit_price, item.list_price, item.sale_name) == (
        Decimal("10.00"), Decimal("20.00"), "Summer sale")
    assert order.total == quote.total == Decimal("20.00")
    sale_delete(store=store, actor=owner(store), sale=sale)  # the sale is over
    ok, message = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok, message
    order.refresh_from_db()
    assert order.total == Decimal("20.00") and order.paid_at is not None
    assert SandboxCharge.objects.get().amount_minor == 2000


def test_a_sale_from_another_store_changes_nothing_here(store, product):
    make_sale(make_shop(), value="90")
    assert price_products(store=store, products=[product])[product.pk][0] == Decimal("20.00")


@pytest.mark.parametrize(("fields", "code"), [
    ({"name": ""}, "invalid_name"),
    ({"name": "a\x00b"}, "invalid_name"),
    ({"value": "150"}, "invalid_value"),
    ({"all_products": False}, "no_targets"),
    ({"ends_at": timezone.now() - timedelta(days=3)}, "invalid_window"),
    ({"starts_at": timezone.now().replace(tzinfo=None)}, "invalid_time"),
])
def test_hostile_sale_input_is_refused_and_writes_nothing(store, fields, code):
    now = timezone.now()
    data = {"name": "Sale", "kind": "percent", "value": "10", "all_products": True,
            "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=1), **fields}
    with pytest.raises(ServiceError) as exc:
        sale_create(store=store, actor=owner(store), data=SaleInput(**data))
    assert exc.value.code == code
    assert not Sale.objects.exists()
