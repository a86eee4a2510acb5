"""A gift card bought as a product, with the basket-reminder consent at checkout, then the
order page with the code, the reminder's unsubscribe page and Settings > E-mails, in Chromium
at phone and desktop sizes. Screenshots go to ``$SHOPKEEP_SCREENSHOTS`` (default: the test's
tmp dir) to be looked at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from shopkeep.notifications.models import EmailUnsubscribe, StoreEmailSettings
from shopkeep.notifications.scheduled import unsubscribe_token
from shopkeep.orders.models import Order
from shopkeep.promotions.models import GiftCard
from tests.browser.test_promotions_pages import SIZES, _no_overflow
from tests.commerce import make_product, make_shop
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_buyer_gets_a_gift_card_code_and_can_stop_reminders(live_server, page, size,
                                                              tmp_path):
    shots = Path(os.environ.get("SHOPKEEP_SCREENSHOTS", tmp_path))
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    base = live_server.url
    store = make_shop(slug="shop", name="Block Party")
    StoreEmailSettings.objects.create(store=store, abandoned_basket=True)
    card_product = make_product(store, name="Gift card 25", price="25.00", type="gift_card",
                                purchase_command=None)

    page.goto(f"{base}/s/shop/p/{card_product.slug}/")
    page.click("button:has-text('Add to basket')")
    page.wait_for_url(re.compile(r"/basket/$"))
    page.click("text=Checkout")
    page.fill("input[name=email]", "steve@example.com")
    page.fill("input[name=player_name]", "Steve_01")
    page.check("input[name=basket_reminder]")
    page.check("input[name=accept_terms]")
    page.screenshot(path=str(shots / f"checkout-reminder-{size}.png"), full_page=True)
    _no_overflow(page)
    page.click("button:has-text('Continue to payment')")
    page.wait_for_url(re.compile(r"/pay/sandbox/cs_test_"))
    assert Order.objects.get().basket_reminder is True
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.click("button:has-text('Pay')")
    page.wait_for_url(re.compile(r"/s/shop/order/\w+/$"))
    card = GiftCard.objects.get()
    assert card.display_code in page.inner_text("[data-testid=order-gift-cards]")
    page.screenshot(path=str(shots / f"order-gift-card-{size}.png"), full_page=True)
    _no_overflow(page)

    page.goto(f"{base}/s/shop/emails/unsubscribe/"
              f"{unsubscribe_token(store, 'steve@example.com')}/")
    page.screenshot(path=str(shots / f"unsubscribe-{size}.png"), full_page=True)
    _no_overflow(page)
    page.click("button:has-text('Stop basket reminders')")
    assert "no more basket reminders" in page.inner_text("[data-testid=unsubscribed]")
    assert EmailUnsubscribe.objects.filter(email="steve@example.com").count() == 1

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/"))
    page.goto(f"{base}/dashboard/shop/settings/emails/")
    assert page.is_checked("input[name=abandoned_basket]")
    page.check("input[name=daily_summary]")
    page.screenshot(path=str(shots / f"dash-emails-{size}.png"), full_page=True)
    _no_overflow(page)
    page.goto(f"{base}/dashboard/shop/promotions/gift-cards/")
    assert card.masked_code in page.inner_text("main")
    assert not page.csp_violations, page.csp_violations
