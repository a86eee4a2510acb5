"""Promotion, tax and e-mail pages in Chromium at phone and desktop sizes: a buyer applies a
coupon and a gift card; the owner's pages render without overflow. Screenshots go to
``$SHOPKEEP_SCREENSHOTS`` (default: the test's tmp dir) to be looked at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from shopkeep.orders.models import Order
from tests.commerce import make_product, make_shop
from tests.factories import PASSWORD, owner_of
from tests.promotions.helpers import make_coupon, make_gift_card, make_sale

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


def _no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_buyer_uses_a_sale_a_coupon_and_a_gift_card(live_server, page, size, tmp_path):
    shots = Path(os.environ.get("SHOPKEEP_SCREENSHOTS", tmp_path))
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    base = live_server.url
    store = make_shop(slug="shop", name="Block Party")
    vip = make_product(store, name="VIP Rank", price="29.99", is_featured=True)
    make_sale(store, value="10", product_ids=[vip.pk])
    make_coupon(store, "SAVE10")
    card = make_gift_card(store, "10.00")

    page.goto(f"{base}/s/shop/")
    assert "26.99" in page.inner_text("main")
    page.screenshot(path=str(shots / f"home-{size}.png"), full_page=True)
    _no_overflow(page)
    page.goto(f"{base}/s/shop/p/{vip.slug}/")
    page.click("button:has-text('Add to basket')")
    page.wait_for_url(re.compile(r"/basket/$"))
    page.fill("input[name=coupon_code]", "save10")
    page.click("button:has-text('Apply')")
    assert "2.70" in page.inner_text("[data-testid=basket-discount]")
    page.screenshot(path=str(shots / f"basket-{size}.png"), full_page=True)
    _no_overflow(page)
    page.goto(f"{base}/s/shop/checkout/")
    page.fill("input[name=email]", "steve@example.com")
    page.fill("input[name=player_name]", "Steve_01")
    page.fill("input[name=gift_card_code]", card.display_code)
    page.check("input[name=accept_terms]")
    page.screenshot(path=str(shots / f"checkout-{size}.png"), full_page=True)
    _no_overflow(page)
    page.click("button:has-text('Continue to payment')")
    page.wait_for_load_state()
    order = Order.objects.get()
    assert (str(order.total), str(order.gift_card_amount)) == ("24.29", "10.00")
    page.goto(f"{base}/s/shop/gift-card/")
    page.fill("input[name=code]", card.code)
    page.click("button:has-text('Check balance')")
    assert "0.00 USD" in page.inner_text("[data-testid=gift-card-balance]")
    page.screenshot(path=str(shots / f"gift-card-{size}.png"), full_page=True)
    _no_overflow(page)

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/"))
    for name, path in [("coupons", "promotions/coupons/"), ("sales", "promotions/sales/"),
                       ("gift-cards", "promotions/gift-cards/"),
                       ("gift-card", f"promotions/gift-cards/{card.pk}/"),
                       ("coupon-form", "promotions/coupons/new/"),
                       ("emails", "settings/emails/"), ("tax", "settings/tax/")]:
        page.goto(f"{base}/dashboard/shop/{path}")
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(shots / f"dash-{name}-{size}.png"), full_page=True)
        _no_overflow(page)
    assert not page.csp_violations, page.csp_violations
