"""A buyer chooses PayPal at checkout, approves on (the fake) PayPal's page and comes back
to a paid order, in Chromium at phone and desktop widths. The fake PayPal runs on a real
socket; the capture on return goes to it over HTTP, like the real one."""

from __future__ import annotations

import re

import pytest

from shopkeep.orders.models import Order
from tests.commerce import make_product, make_shop
from tests.payments.conftest import (  # noqa: F401 (fixtures)
    _fake_server,
    _paypal_server,
    connect,
    connect_paypal,
    fake_paypal,
    fake_stripe,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_buyer_pays_with_paypal_through_the_approve_redirect(
        live_server, page, fake_paypal, fake_stripe,  # noqa: F811 (the imported fixtures)
        settings, screenshot_dir, width, height):
    store = make_shop(slug="shop", name="Block Party")
    make_product(store, name="VIP Rank", price="29.99", is_featured=True)
    connect(store, fake_stripe)
    connect_paypal(store, fake_paypal)
    # The webhook was registered for the public https address; the buyer's browser comes
    # back to this test server.
    settings.SITE_URL = live_server.url
    page.set_viewport_size({"width": width, "height": height})
    base = live_server.url

    page.goto(f"{base}/s/shop/")
    page.click("text=VIP Rank")
    page.click("button:has-text('Add to basket')")
    page.wait_for_url(re.compile(r"/s/shop/basket/$"))
    page.click("text=Checkout")
    page.fill("input[name=email]", "steve@example.com")
    page.fill("input[name=player_name]", "Steve_01")
    assert page.is_visible("[data-testid=pay-with]")
    page.check("input[name=gateway][value=paypal]")
    page.check("input[name=accept_terms]")
    page.locator("[data-testid=pay-with]").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"paypal-checkout-{width}.png"), full_page=True)
    page.click("button:has-text('Continue to payment')")

    page.wait_for_url(re.compile(r"/checkoutnow\?token=\w+"))
    assert "29.99 USD" in page.inner_text("h1")
    page.screenshot(path=str(screenshot_dir / f"paypal-approve-{width}.png"), full_page=True)
    order = Order.objects.get(store=store)
    assert order.payment_gateway == "paypal" and order.paid_at is None
    page.click("button:has-text('Pay now')")

    page.wait_for_url(re.compile(r"/s/shop/order/\w+/$"))
    assert "paid" in page.inner_text("[data-testid=order-status]").lower()
    page.screenshot(path=str(screenshot_dir / f"paypal-paid-{width}.png"), full_page=True)
    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert order.gateway_payment_id == fake_paypal.captures_of(order.gateway_session_id)[0]["id"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width
    assert not page.csp_violations


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_the_payments_settings_page_with_paypal_fits(live_server, page, fake_paypal,  # noqa: F811
                                                     settings, screenshot_dir, width, height):
    from django.test import Client

    from tests.factories import owner_of

    store = make_shop(slug="shop", name="Block Party")
    connect_paypal(store, fake_paypal)
    client = Client()
    client.force_login(owner_of(store))
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/dashboard/shop/settings/payments/")
    assert "webhook was" not in page.inner_text("main")
    assert "sandbox" in page.inner_text("[data-testid=paypal-status]")
    assert "PayPal" in page.inner_text("[data-testid=checkout-gateways]")
    page.locator("[data-testid=paypal-status]").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"paypal-settings-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not page.csp_violations
