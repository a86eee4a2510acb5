"""Settings > Payments for PayPal, and the gateway choice on the storefront's checkout."""

from __future__ import annotations

import pytest

from shopkeep.orders.models import Order
from shopkeep.payments.models import PayPalConnection
from tests.commerce import make_product, make_shop
from tests.factories import add_member, owner_of
from tests.payments.conftest import (
    PAYPAL_CLIENT_ID,
    PAYPAL_SECRET,
    connect,
    connect_paypal,
    post_paypal,
)
from tests.storefront.shop import checkout_data, url

pytestmark = pytest.mark.django_db
FORM = {"mode": "sandbox", "client_id": PAYPAL_CLIENT_ID, "client_secret": PAYPAL_SECRET}


def _page(store, suffix=""):
    return f"/dashboard/{store.slug}/settings/payments/{suffix}"


@pytest.fixture
def store(fake_paypal):
    return make_shop()


def test_connecting_from_the_page_creates_the_webhook_and_says_so(client, fake_paypal, store):
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    client.force_login(owner_of(store))
    response = client.post(_page(store, "paypal/"), FORM, follow=True)
    page = response.content.decode()
    assert "PayPal (sandbox) connected; its webhook was created at PayPal" in page
    assert f"…{PAYPAL_SECRET[-4:]}" in page and PAYPAL_SECRET not in page
    assert "no verified event yet" in page
    connection = PayPalConnection.objects.get(store=store)
    ping = fake_paypal.event("PAYMENT.CAPTURE.PENDING", {"id": "x"})
    post_paypal(client, store, ping, fake_paypal)
    page = client.get(_page(store)).content.decode()
    assert "webhook working" in page and connection.webhook_id in page


def test_a_refused_secret_shows_seed_000s_hint_and_is_never_echoed(client, fake_paypal, store):
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    client.force_login(owner_of(store))
    wrong = "EwrongSecretThatPayPalRefuses0000000000001"
    response = client.post(_page(store, "paypal/"), {**FORM, "client_secret": wrong})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Sandbox/Live switch" in page and wrong not in page
    assert not PayPalConnection.objects.exists()


def test_disconnect_from_the_page(client, fake_paypal, store):
    connect_paypal(store, fake_paypal)
    client.force_login(owner_of(store))
    response = client.post(_page(store, "paypal/disconnect/"), follow=True)
    assert "PayPal disconnected" in response.content.decode()
    assert not PayPalConnection.objects.exists()


def test_an_outsider_gets_404_and_changes_nothing(client, fake_paypal, store):
    connect_paypal(store, fake_paypal)
    client.force_login(owner_of(make_shop()))
    assert client.post(_page(store, "paypal/"), FORM).status_code == 404
    assert client.post(_page(store, "paypal/disconnect/")).status_code == 404
    assert PayPalConnection.objects.filter(store=store).exists()


def test_a_support_member_gets_403_and_paypal_is_not_asked(client, fake_paypal, store):
    client.force_login(add_member(store).user)
    assert client.post(_page(store, "paypal/"), FORM).status_code == 403
    assert fake_paypal.requests == []


def test_a_get_on_the_connect_url_changes_nothing(client, fake_paypal, store):
    client.force_login(owner_of(store))
    assert client.get(_page(store, "paypal/")).status_code == 405


# -- the storefront's choice --------------------------------------------------------------------

@pytest.fixture
def both(fake_paypal, fake_stripe):
    shop = make_shop(slug="shop", name="Block Party")
    connect(shop, fake_stripe)
    connect_paypal(shop, fake_paypal)
    return shop


def test_checkout_asks_how_to_pay_when_two_gateways_are_connected(client, both):
    product = make_product(both)
    client.post(url("product", product.slug), {"quantity": "1"})
    page = client.get(url("checkout")).content.decode()
    assert 'data-testid="pay-with"' in page and "PayPal" in page and "Card (Stripe)" in page


def test_choosing_paypal_sends_the_buyer_to_paypal(client, fake_paypal, both):
    product = make_product(both)
    client.post(url("product", product.slug), {"quantity": "1"})
    response = client.post(url("checkout"), checkout_data(gateway="paypal"))
    order = Order.objects.get()
    assert order.payment_gateway == "paypal"
    assert response["Location"] == f"{fake_paypal.url}/checkoutnow?token={order.gateway_session_id}"


def test_a_gateway_that_is_not_offered_is_a_form_error(client, both):
    product = make_product(both)
    client.post(url("product", product.slug), {"quantity": "1"})
    response = client.post(url("checkout"), checkout_data(gateway="sandbox"))
    assert response.status_code == 400 and not Order.objects.exists()


def test_one_gateway_means_no_question(client, fake_paypal):
    shop = make_shop(slug="shop")
    connect_paypal(shop, fake_paypal)
    product = make_product(shop)
    client.post(url("product", product.slug), {"quantity": "1"})
    assert 'data-testid="pay-with"' not in client.get(url("checkout")).content.decode()


def test_the_page_shows_the_paypal_card_once_and_a_plain_title(client, fake_paypal, store):
    client.force_login(owner_of(store))
    page = client.get(_page(store)).content.decode()
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Payments") and "<" not in title
    assert page.count('data-testid="paypal-status"') == 1
