"""Browsing a store and keeping a basket in the session."""

from __future__ import annotations

import pytest

from shopkeep.catalog.services import category_create
from shopkeep.orders.models import Order
from shopkeep.orders.services import MAX_LINES
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, place_order
from tests.factories import owner_of
from tests.storefront.shop import checkout_data, url

pytestmark = pytest.mark.django_db


def _basket(client, store) -> dict:
    return client.session.get(f"basket_{store.pk}", {})


def test_every_page_renders_without_dashboard_navigation(client, store, product):
    client.post(url("product", product.slug), {"quantity": "1"})
    order = place_order(store, product)
    for name, args in [("home", []), ("product", [product.slug]), ("basket", []),
                       ("checkout", []), ("order", [order.access_key]),
                       ("account_login", []), ("account_signup", [])]:
        page = client.get(url(name, *args))
        assert page.status_code == 200, name
        assert b"Block Party" in page.content
        assert b'class="sidebar"' not in page.content
        assert b"/dashboard/" not in page.content and b"Two-factor" not in page.content
        assert b"<title>" in page.content and b"Shopkeep</title>" not in page.content


def test_home_lists_featured_products_and_marks_test_mode(client, product):
    page = client.get(url("home"))
    assert page.status_code == 200
    assert b"VIP Rank" in page.content and b"29.99" in page.content
    assert b'data-testid="test-mode"' in page.content


def test_a_live_store_shows_no_test_mode_banner(client, store, product):
    store.test_mode = False
    store.save()
    assert b'data-testid="test-mode"' not in client.get(url("home")).content


def test_home_groups_on_sale_products_by_category(client, store):
    ranks = category_create(store=store, actor=Actor.for_user(owner_of(store)), name="Ranks")
    make_product(store, name="Gold Rank", category_id=ranks.pk)
    make_product(store, name="Loose Key")
    make_product(store, name="Hidden Thing", is_active=False)
    content = client.get(url("home")).content.decode()
    assert content.index('id="ranks"') < content.index("Gold Rank") < content.index("More")
    assert content.index("More") < content.index("Loose Key")
    assert "Hidden Thing" not in content


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_store_that_is_not_active_is_404_everywhere(client, store, product, status):
    order = place_order(store, product)
    store.status = status
    store.save()
    for name, args in [("home", []), ("product", [product.slug]), ("basket", []),
                       ("checkout", []), ("order", [order.access_key]), ("account", []),
                       ("account_login", []), ("account_signup", [])]:
        assert client.get(url(name, *args)).status_code == 404, name
    assert client.post(url("product", product.slug), {"quantity": "1"}).status_code == 404
    assert _basket(client, store) == {}


def test_hidden_and_foreign_products_have_no_page(client, store, outsider):
    make_product(store, name="Secret", is_active=False)
    foreign = make_product(outsider, name="Foreign")
    assert client.get(url("product", "secret")).status_code == 404
    assert client.get(url("product", foreign.slug)).status_code == 404


def test_adding_updating_and_removing_basket_lines(client, product):
    response = client.post(url("product", product.slug), {"quantity": "2"})
    assert response.status_code == 302 and response["Location"] == url("basket")
    assert b"59.98" in client.get(url("basket")).content
    client.post(url("basket"), {"product_id": product.pk, "quantity": "3"})
    assert b"89.97" in client.get(url("basket")).content
    client.post(url("basket"), {"product_id": product.pk, "quantity": "0"})
    assert b"Your basket is empty" in client.get(url("basket")).content


def test_adding_twice_adds_up_and_stops_at_99(client, store, product):
    client.post(url("product", product.slug), {"quantity": "60"})
    client.post(url("product", product.slug), {"quantity": "30"})
    assert _basket(client, store) == {str(product.pk): 90}
    page = client.post(url("product", product.slug), {"quantity": "10"}, follow=True)
    assert b"At most 99 of one product." in page.content
    assert _basket(client, store) == {str(product.pk): 90}


@pytest.mark.parametrize("quantity", ["-1", "0", "abc", "1e9", "100", "", "9" * 500])
def test_bad_quantities_on_the_product_page_are_form_errors(client, store, product, quantity):
    response = client.post(url("product", product.slug), {"quantity": quantity})
    assert response.status_code == 400 and b"errorlist" in response.content
    assert _basket(client, store) == {}


@pytest.mark.parametrize("quantity", ["-1", "abc", "1e9", "100"])
def test_bad_quantities_do_not_change_the_basket(client, store, product, quantity):
    client.post(url("product", product.slug), {"quantity": "1"})
    page = client.post(url("basket"), {"product_id": product.pk, "quantity": quantity},
                       follow=True)
    assert b"Enter a quantity from 0 to 99." in page.content
    assert _basket(client, store) == {str(product.pk): 1}


def test_another_stores_product_cannot_enter_the_basket(client, store, product, outsider):
    foreign = make_product(outsider, name="Foreign")
    assert client.post(url("basket"), {"product_id": foreign.pk,
                                       "quantity": "1"}).status_code == 404
    assert client.post(url("basket"), {"product_id": "x", "quantity": "1"}).status_code == 404
    assert client.post(url("basket"), {"quantity": "1"}).status_code == 404
    assert _basket(client, store) == {}


def test_each_store_has_its_own_basket(client, store, product, outsider):
    client.post(url("product", product.slug), {"quantity": "1"})
    assert b"Your basket is empty" in client.get(url("basket", slug="other")).content
    assert b"29.99" in client.get(url("basket")).content


def test_a_product_taken_off_sale_leaves_the_basket(client, store, product):
    client.post(url("product", product.slug), {"quantity": "1"})
    product.is_active = False
    product.save()
    assert b"Your basket is empty" in client.get(url("basket")).content


def test_the_basket_holds_at_most_20_lines(client, store):
    products = [make_product(store, name=f"Item {i}", price="1.00")
                for i in range(MAX_LINES + 1)]
    for p in products[:MAX_LINES]:
        client.post(url("product", p.slug), {"quantity": "1"})
    page = client.post(url("product", products[-1].slug), {"quantity": "1"}, follow=True)
    assert b"A basket holds at most 20 products." in page.content
    assert len(_basket(client, store)) == MAX_LINES


def test_an_out_of_stock_product_shows_it_and_cannot_be_added(client, store):
    kit = make_product(store, name="Starter Kit", stock_enabled=True, stock_quantity=0)
    page = client.get(url("product", kit.slug))
    assert b"Out of stock" in page.content and b"Add to basket" not in page.content
    assert b"out of stock" in client.get(url("home")).content.lower()
    page = client.post(url("product", kit.slug), {"quantity": "1"})
    assert b"Starter Kit is out of stock." in page.content
    assert _basket(client, store) == {}


def test_a_subscription_is_one_line_of_quantity_one(client, store):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    page = client.get(url("product", monthly.slug))
    assert b"every month" in page.content and b'type="number"' not in page.content
    client.post(url("product", monthly.slug), {"quantity": "1"})
    client.post(url("product", monthly.slug), {"quantity": "5"})
    client.post(url("basket"), {"product_id": monthly.pk, "quantity": "7"})
    assert _basket(client, store) == {str(monthly.pk): 1}
    assert b"9.99 USD" in client.get(url("basket")).content


def test_a_subscription_with_other_products_gets_the_checkout_services_message(
        client, store, product):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    client.post(url("product", product.slug), {"quantity": "1"})
    client.post(url("product", monthly.slug), {"quantity": "1"})
    assert len(_basket(client, store)) == 2  # the basket keeps what the customer chose
    page = client.post(url("checkout"), checkout_data())
    assert page.status_code == 400
    assert b"A subscription is bought on its own, one at a time." in page.content
    assert not Order.objects.exists()
    assert len(_basket(client, store)) == 2
