"""The storefront's sale prices, coupon box, gift card at checkout and balance page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopkeep.orders.models import Order
from shopkeep.payments.models import SandboxSession
from shopkeep.promotions.models import Coupon, GiftCard
from tests.promotions.helpers import make_coupon, make_gift_card, make_sale
from tests.storefront.shop import checkout_data, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_basket(client, product):
    client.post(url("product", product.slug), {"quantity": "2"})
    return product


def test_a_running_sale_shows_the_old_price_struck_through_and_its_end(client, store, product):
    store.time_zone = "Europe/Berlin"
    store.save()
    make_sale(store, value="10")
    html = client.get(url("home")).content.decode()
    assert "<s aria-label=\"was 29.99 USD\">29.99</s>" in html
    assert "26.99 USD" in html and "Summer sale: until" in html and "(Europe/Berlin)" in html
    assert "26.99 USD" in client.get(url("product", product.slug)).content.decode()


def test_the_basket_applies_a_coupon_and_shows_the_discount(client, store, in_basket):
    make_coupon(store, "SAVE10")
    response = client.post(url("basket"), {"coupon_code": "save10"}, follow=True)
    html = response.content.decode()
    assert "Code SAVE10 applied: 6.00 USD off." in html
    assert 'data-testid="basket-discount">&minus;6.00 USD' in html
    assert 'data-testid="basket-total">53.98 USD' in html


def test_a_code_that_does_not_apply_says_why_and_changes_no_price(client, store, in_basket):
    make_coupon(store, "BIG", min_basket="100")
    html = client.post(url("basket"), {"coupon_code": "BIG"}, follow=True).content.decode()
    assert "needs a basket of at least 100.00 USD" in html
    assert 'data-testid="basket-total">59.98 USD' in html
    assert not client.session.get(f"coupon_{store.pk}")
    assert Coupon.objects.get().uses_count == 0


def test_another_stores_coupon_is_unknown_here(client, store, outsider, in_basket):
    make_coupon(outsider, "THEIRS")
    html = client.post(url("basket"), {"coupon_code": "THEIRS"}, follow=True).content.decode()
    assert "The code THEIRS is not valid here." in html


def test_checkout_with_coupon_and_gift_card_charges_the_rest(client, store, in_basket):
    make_coupon(store, "SAVE10")
    card = make_gift_card(store, "20.00")
    client.post(url("basket"), {"coupon_code": "SAVE10"})
    page = client.get(url("checkout")).content.decode()
    assert 'data-testid="basket-discount">&minus;6.00 USD' in page
    response = client.post(url("checkout"), checkout_data(gift_card_code=card.display_code))
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.discount, order.total, order.gift_card_amount) == (
        Decimal("6.00"), Decimal("53.98"), Decimal("20.00"))
    assert SandboxSession.objects.get().amount_minor == 3398
    assert not client.session.get(f"coupon_{store.pk}")  # the basket and its code are used
    status = client.get(url("order", order.access_key)).content.decode()
    assert 'data-testid="order-discount">&minus;6.00 USD' in status
    assert 'data-testid="order-gift-card">20.00 USD' in status


def test_a_gift_card_that_covers_the_order_skips_the_payment_page(client, store, in_basket):
    card = make_gift_card(store, "100.00")
    response = client.post(url("checkout"), checkout_data(gift_card_code=card.code))
    order = Order.objects.get()
    assert response["Location"].endswith(url("order", order.access_key))
    assert order.paid_at is not None and not SandboxSession.objects.exists()
    card.refresh_from_db()
    assert card.balance == Decimal("40.02")


def test_an_unknown_gift_card_at_checkout_is_a_form_error_and_writes_nothing(
        client, store, in_basket):
    response = client.post(url("checkout"), checkout_data(gift_card_code="NOPE-NOPE"))
    assert response.status_code == 400
    assert "That gift card code is not valid here." in response.content.decode()
    assert not Order.objects.exists()


def test_the_balance_page_shows_a_cards_balance_and_refuses_others(client, store, outsider):
    card = make_gift_card(store, "12.50")
    html = client.post(url("gift_card"), {"code": card.display_code.lower()}).content.decode()
    assert "holds <strong>12.50 USD</strong>" in html
    foreign = make_gift_card(outsider, "99.00")
    response = client.post(url("gift_card"), {"code": foreign.code})
    assert response.status_code == 400 and "99.00" not in response.content.decode()
    assert GiftCard.objects.get(pk=foreign.pk).balance == Decimal("99.00")


def test_the_balance_page_throttles_guessing(client, store):
    for _ in range(20):
        client.post(url("gift_card"), {"code": "AAAA-BBBB"})
    card = make_gift_card(store, "5.00")
    response = client.post(url("gift_card"), {"code": card.code})
    assert response.status_code == 429 and "5.00" not in response.content.decode()
