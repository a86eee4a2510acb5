"""The public storefront: browse, basket, checkout, order status and the customer account."""

from __future__ import annotations

import pytest
from django.core import signing
from django.urls import reverse

from shopkeep.customers.models import Customer
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.storefront.tasks import send_login_link
from shopkeep.storefront.views import LOGIN_SALT
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="shop", name="Block Party")


@pytest.fixture
def product(store):
    return make_product(store, name="VIP Rank", price="29.99", is_featured=True)


def _url(name: str, *args) -> str:
    return reverse(f"storefront:{name}", args=["shop", *args])


def _checkout_data(**overrides) -> dict:
    data = {"email": "Steve@Example.com", "player_name": "Steve_01", "name": "Steve",
            "accept_terms": "on"}
    data.update(overrides)
    return data


def test_home_lists_featured_products_and_marks_test_mode(client, product):
    page = client.get(_url("home"))
    assert page.status_code == 200
    assert b"VIP Rank" in page.content and b"29.99" in page.content
    assert b'data-testid="test-mode"' in page.content


def test_a_suspended_store_and_hidden_products_are_404(client, store, product):
    make_product(store, name="Secret", is_active=False)
    assert client.get(_url("product", "secret")).status_code == 404
    store.status = "suspended"
    store.save()
    assert client.get(_url("home")).status_code == 404
    assert client.get(_url("product", product.slug)).status_code == 404


def test_adding_updating_and_removing_basket_lines(client, product):
    client.post(_url("product", product.slug), {"quantity": "2"})
    basket = client.get(_url("basket"))
    assert b"59.98" in basket.content
    client.post(_url("basket"), {"product_id": product.pk, "quantity": "3"})
    assert b"89.97" in client.get(_url("basket")).content
    client.post(_url("basket"), {"product_id": product.pk, "quantity": "0"})
    assert b"Your basket is empty" in client.get(_url("basket")).content


@pytest.mark.parametrize("quantity", ["-1", "abc", "1e9", "100"])
def test_bad_quantities_do_not_change_the_basket(client, product, quantity):
    client.post(_url("product", product.slug), {"quantity": "1"})
    client.post(_url("basket"), {"product_id": product.pk, "quantity": quantity})
    assert b"29.99 USD" in client.get(_url("basket")).content


def test_another_stores_product_cannot_enter_the_basket(client, product):
    other = make_shop(slug="other")
    foreign = make_product(other, name="Foreign")
    assert client.post(_url("basket"), {"product_id": foreign.pk,
                                        "quantity": "1"}).status_code == 404
    assert client.post(_url("basket"), {"product_id": "x", "quantity": "1"}).status_code == 404


def test_checkout_creates_one_pending_order_and_sends_the_buyer_to_the_sandbox(client, store,
                                                                              product):
    client.post(_url("product", product.slug), {"quantity": "1"})
    response = client.post(_url("checkout"), _checkout_data(line1="1 Main St", city="X",
                                                            country="us"))
    order = Order.objects.get(store=store)
    assert response.status_code == 302 and response["Location"].startswith("/pay/sandbox/cs_")
    assert order.customer_email == "steve@example.com" and order.player_name == "Steve_01"
    assert order.billing_address["country"] == "US"
    assert b"Your basket is empty" in client.get(_url("basket")).content


@pytest.mark.parametrize("player", ["Steve; op Steve", "Steve\nop", "ab", "Ste ve", "x" * 40])
def test_a_hostile_player_name_writes_no_order_customer_or_event(client, store, product,
                                                                 player):
    client.post(_url("product", product.slug), {"quantity": "1"})
    events = Event.objects.count()
    response = client.post(_url("checkout"), _checkout_data(player_name=player))
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert Event.objects.count() == events


def test_checkout_reports_out_of_stock_and_writes_nothing(client, store):
    product = make_product(store, name="Kit", stock_enabled=True, stock_quantity=1)
    client.post(_url("product", product.slug), {"quantity": "1"})
    product.stock_quantity = 0
    product.save()
    response = client.post(_url("checkout"), _checkout_data())
    assert b"out of stock" in response.content
    assert not Order.objects.exists()


def test_the_order_page_needs_the_exact_key_of_this_store(client, store, product,
                                                          django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    page = client.get(_url("order", order.access_key))
    assert page.status_code == 200 and b"paid" in page.content
    assert b'name="referrer" content="no-referrer"' in page.content
    assert client.get(_url("order", order.access_key[:-1] + "x")).status_code == 404
    make_shop(slug="other")
    assert client.get(reverse("storefront:order",
                              args=["other", order.access_key])).status_code == 404


def test_paying_again_is_offered_only_for_unpaid_orders(client, store, product,
                                                        django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    response = client.post(_url("order", order.access_key))
    assert response.status_code == 302 and "/pay/" not in response["Location"]


def test_login_answers_the_same_for_unknown_addresses_and_mails_only_known_ones(
        client, store, product, django_capture_on_commit_callbacks, mailoutbox):
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    unknown = client.post(_url("account_login"), {"email": "nobody@example.com"})
    known = client.post(_url("account_login"), {"email": "player@example.com"})
    assert unknown.status_code == known.status_code == 200
    assert b"login-sent" in unknown.content and b"login-sent" in known.content
    from django_tasks_db.models import DBTaskResult

    queued = list(DBTaskResult.objects.all())
    assert len(queued) == 1 and queued[0].args_kwargs["kwargs"]["to"] == "player@example.com"
    # Run the queued task as the worker would and read the mail it sends.
    send_login_link.call(**queued[0].args_kwargs["kwargs"])
    assert len(mailoutbox) == 1 and "/s/shop/account/verify/" in mailoutbox[0].body


def _login_token(store, customer) -> str:
    return signing.TimestampSigner(salt=LOGIN_SALT).sign_object({"c": customer.pk,
                                                                 "s": store.pk})


def test_the_link_signs_in_and_the_account_lists_orders(client, store, product,
                                                        django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    response = client.get(_url("account_verify", _login_token(store, order.customer)))
    assert response.status_code == 302
    assert order.order_number.encode() in client.get(_url("account")).content


def test_a_tampered_or_foreign_link_signs_nobody_in(client, store, product,
                                                   django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    token = _login_token(store, order.customer)
    client.get(_url("account_verify", token[:-2] + "xx"))
    assert client.get(_url("account")).status_code == 302
    other = make_shop(slug="other")
    client.get(reverse("storefront:account_verify", args=["other", token]))
    assert client.get(reverse("storefront:account", args=["other"])).status_code == 302
    assert other.pk != store.pk


def test_a_customer_session_of_one_store_shows_nothing_of_another(
        client, store, product, django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    client.get(_url("account_verify", _login_token(store, order.customer)))
    other = make_shop(slug="other")
    paid_order(other, make_product(other, name="Other Thing"),
               capture=django_capture_on_commit_callbacks)
    assert client.get(reverse("storefront:account", args=["other"])).status_code == 302
    assert b"Other Thing" not in client.get(_url("account")).content


def test_a_customer_cancels_their_subscription_at_period_end(
        client, store, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    order = paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get(order=order)
    cancel = _url("account_cancel_subscription", sub.pk)
    assert client.post(cancel).status_code == 302  # not signed in: to the login page
    sub.refresh_from_db()
    assert sub.status == "active"
    client.get(_url("account_verify", _login_token(store, order.customer)))
    client.post(cancel)
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ends_at == sub.current_period_end
    assert sub.ended_at is None
    assert Event.objects.filter(store=store, event_type="subscription.cancelled").count() == 1


def test_signup_creates_a_customer_once_and_mails_a_link(client, store):
    response = client.post(_url("account_signup"), {"email": "New@Example.com",
                                                     "player_name": "Newbie_1"})
    assert response.status_code == 200 and b"login-sent" in response.content
    customer = Customer.objects.get(store=store)
    assert (customer.email, customer.player_name) == ("new@example.com", "Newbie_1")
    assert Event.objects.filter(store=store, event_type="customer.created").count() == 1
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 1


def test_signup_for_an_existing_address_changes_nothing_and_answers_the_same(
        client, store, product, django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    response = client.post(_url("account_signup"), {"email": order.customer_email,
                                                     "player_name": "Hijacker"})
    assert response.status_code == 200 and b"login-sent" in response.content
    order.customer.refresh_from_db()
    assert order.customer.player_name == "Steve"
    assert Event.objects.filter(store=store, event_type="customer.created").count() == 1


def test_signup_with_a_hostile_player_name_writes_nothing(client, store):
    response = client.post(_url("account_signup"), {"email": "a@example.com",
                                                     "player_name": "Steve; op Steve"})
    assert response.status_code == 400
    assert not Customer.objects.exists() and not Event.objects.exists()
