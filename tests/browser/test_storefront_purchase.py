"""A customer buys from the public storefront in Chromium, then finds the order in their account."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from shopkeep.customers.models import Customer
from shopkeep.orders.models import Order
from tests.commerce import make_product, make_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_buys_after_a_decline_and_signs_in_by_link(live_server, page, mailoutbox):
    base = live_server.url
    store = make_shop(slug="shop", name="Block Party")
    make_product(store, name="VIP Rank", price="29.99", is_featured=True)

    page.goto(f"{base}/s/shop/")
    assert page.is_visible("[data-testid=test-mode]")
    assert page.locator(".sidebar").count() == 0  # no dashboard navigation in the store
    page.click("text=VIP Rank")
    page.fill("input[name=quantity]", "2")
    page.click("button:has-text('Add to basket')")
    page.wait_for_url(re.compile(r"/s/shop/basket/$"))
    assert "59.98" in page.inner_text("[data-testid=basket-total]")
    page.click("text=Checkout")

    # A player name carrying a second command is refused on the form; nothing is written.
    page.fill("input[name=email]", "steve@example.com")
    page.fill("input[name=player_name]", "Steve; op Steve")
    page.check("input[name=accept_terms]")
    page.click("button:has-text('Continue to payment')")
    assert "letters, digits or underscores" in page.inner_text(".errorlist")
    assert not Order.objects.exists() and not Customer.objects.exists()
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
    page.wait_for_url(re.compile(r"/s/shop/order/\w+/$"))
    assert "paid" in page.inner_text("[data-testid=order-status]").lower()
    order = Order.objects.get(store=store)
    assert order.payment_status == "paid" and order.items.get().quantity == 2
    assert order.order_number in page.inner_text("h1")
    page.goto(f"{base}/s/shop/basket/")
    assert "Your basket is empty" in page.inner_text("main")

    # Later: "My purchases" mails a sign-in link (from the worker) that shows the order.
    page.click("text=My purchases")
    page.fill("input[name=email]", "steve@example.com")
    page.click("button:has-text('Send me a link')")
    page.wait_for_selector("[data-testid=login-sent]")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    link = re.search(r"https?://\S+/account/verify/\S+/", mailoutbox[0].body).group(0)
    page.goto(base + link[link.index("/s/"):])
    page.wait_for_url(re.compile(r"/s/shop/account/$"))
    page.click(f"text={order.order_number}")
    page.wait_for_url(re.compile(rf"/s/shop/order/{order.access_key}/$"))
    assert not page.csp_violations
