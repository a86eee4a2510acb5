"""A customer buys with the sandbox gateway in Chromium; the owner refunds in the dashboard."""

from __future__ import annotations

import re

import pytest

from shopkeep.orders.models import Order, Refund
from shopkeep.payments.flows import refund_execute
from tests.commerce import make_product, make_shop
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_pays_after_a_decline_and_the_owner_refunds(live_server, page):
    base = live_server.url
    store = make_shop(slug="shop", name="Block Party")
    make_product(store, name="VIP Rank", price="29.99", is_featured=True)

    # The customer browses, fills the basket and checks out.
    page.goto(f"{base}/s/shop/")
    page.click("text=VIP Rank")
    page.click("button:has-text('Add to basket')")
    page.wait_for_url(re.compile(r"/s/shop/basket/$"))
    assert "29.99" in page.inner_text("[data-testid=basket-total]")
    page.click("text=Checkout")
    page.fill("input[name=email]", "steve@example.com")
    page.fill("input[name=player_name]", "Steve_01")
    page.check("input[name=accept_terms]")
    page.click("button:has-text('Continue to payment')")

    # The sandbox's hosted page: a declined card first, then the good one.
    page.wait_for_url(re.compile(r"/pay/sandbox/cs_test_"))
    page.fill("input[name=card_number]", "4000 0000 0000 0002")
    page.click("button:has-text('Pay')")
    assert "declined" in page.inner_text("[data-testid=payment-error]")
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.click("button:has-text('Pay')")
    page.wait_for_url(re.compile(r"/s/shop/order/"))
    assert "paid" in page.inner_text("[data-testid=order-status]").lower()
    order_page = page.url
    order = Order.objects.get(store=store)
    assert order.payment_status == "paid" and order.is_test_order

    # The owner signs in and refunds it from the order page.
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(f"{base}/dashboard/shop/orders/")
    page.click(f"text={order.order_number}")
    page.fill("input[name=reason]", "Bought the wrong rank")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Refund')")
    page.wait_for_selector("[data-testid=refund-row]")
    assert "pending" in page.inner_text("[data-testid=refund-row]")

    # The worker executes the refund at the gateway; the page then shows it settled.
    refund_execute(refund_id=Refund.objects.get(order=order).pk)
    page.reload()
    assert "succeeded" in page.inner_text("[data-testid=refund-row]")
    order.refresh_from_db()
    assert order.status == "refunded"

    # The buyer's order page tells the truth: refunded, never "delivered".
    page.goto(order_page)
    status = page.inner_text("[data-testid=order-status]")
    assert "Refunded in full" in status and "delivered" not in status.lower()
    assert page.get_attribute("[data-testid=order-live]", "data-state") == "refunded"
    assert not page.csp_violations
