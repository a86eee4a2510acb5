"""In Chromium: a buyer signs in with Discord and with Steam at checkout (real redirects to
the local fakes and back), at 390 px and 1280 px, and the order delivers to the accounts."""

from __future__ import annotations

import re

import pytest

from shopkeep.catalog.models import DeliveryAction
from shopkeep.orders.models import Order
from tests.commerce import make_product, make_shop
from tests.signin.conftest import DISCORD_CLIENT_ID, DISCORD_SECRET
from tests.signin.fakes import FakeDiscord, FakeSteam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fakes(settings, live_server):
    discord, steam = FakeDiscord().start(), FakeSteam().start()
    settings.DISCORD_OAUTH_AUTHORIZE_URL = discord.authorize_url
    settings.DISCORD_OAUTH_API_BASE = discord.api_base
    settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET = DISCORD_CLIENT_ID, DISCORD_SECRET
    discord.add_app(DISCORD_CLIENT_ID, DISCORD_SECRET,
                    f"{live_server.url}/signin/discord/callback/")
    settings.STEAM_OPENID_URL, settings.STEAM_API_BASE = steam.openid_url, steam.url
    settings.STEAM_API_KEY = steam.api_key
    steam.personas[steam.steam_id] = "Gabe"
    yield discord, steam
    discord.stop()
    steam.stop()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_a_buyer_signs_in_with_discord_and_steam_at_checkout(live_server, page, fakes,
                                                            screenshot_dir, width, height):
    discord, steam = fakes
    page.set_viewport_size({"width": width, "height": height})
    store = make_shop(slug="shop", name="Block Party")
    product = make_product(store, name="Discord VIP", price="5.00", requires_steam_signin=True)
    DeliveryAction.objects.create(store=store, product=product, kind="discord_role",
                                  trigger="purchase", role_ids=["123456789012345678"])
    base = live_server.url
    page.goto(f"{base}/s/shop/p/{product.slug}/")
    page.click("button:has-text('Add to basket')")
    page.wait_for_url(re.compile(r"/s/shop/basket/$"))
    page.goto(f"{base}/s/shop/checkout/")
    needed = page.inner_text(".signin-box")
    assert "Sign in with Discord to buy" in needed and "Sign in with Steam to buy" in needed
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / f"signin-checkout-needed-{width}.png"),
                    full_page=True)

    page.click("button:has-text('Sign in with Discord')")
    page.wait_for_url(re.compile(r"/s/shop/checkout/$"))
    assert "Signed in with Discord" in page.inner_text("main")
    page.click("button:has-text('Sign in with Steam')")
    page.wait_for_url(re.compile(r"/s/shop/checkout/$"))
    box = page.inner_text(".signin-box")
    assert "nelly" in box and "Gabe" in box and "Sign in with" not in box
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / f"signin-checkout-done-{width}.png"),
                    full_page=True)

    page.fill("input[name=player_name]", "Steve_01")
    page.check("input[name=accept_terms]")
    page.click("button:has-text('Continue to payment')")
    page.wait_for_url(re.compile(r"/pay/sandbox/cs_test_"))
    order = Order.objects.get(store=store)
    assert order.customer_email == "nelly@example.com"  # from Discord's verified e-mail
    assert (order.player_discord_id, order.player_steam_id) == (discord.user["id"],
                                                                steam.steam_id)
    assert not page.csp_violations


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_settings_sign_in_and_my_purchases_fit(live_server, page, fakes, screenshot_dir,
                                               width, height):
    from tests.factories import PASSWORD, owner_of

    page.set_viewport_size({"width": width, "height": height})
    store = make_shop(slug="shop", name="Block Party")
    base = live_server.url
    page.goto(f"{base}/s/shop/account/login/")
    assert page.locator("button:has-text('Sign in with Steam')").count() == 1
    page.click("button:has-text('Sign in with Steam')")
    page.wait_for_url(re.compile(r"/s/shop/account/login/$|/s/shop/account/$"))
    assert "linked" in page.inner_text("main")  # no e-mail from Steam: link it by e-mail
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / f"signin-login-{width}.png"), full_page=True)

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/"))
    page.goto(f"{base}/dashboard/shop/settings/sign-in/")
    page.fill("input[name=discord_client_id]", "12ab")
    page.fill("input[name=discord_client_secret]", "store-own-secret")
    page.click("button:has-text('Save')")
    assert "17 to 20 digits" in page.inner_text("main")
    page.fill("input[name=discord_client_id]", "999988887777666655")
    page.fill("input[name=discord_client_secret]", "store-own-secret")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Sign-in settings saved")
    assert "your application 999988887777666655" in page.inner_text("[data-testid=discord-state]")
    assert "store-own-secret" not in page.content()
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / f"signin-settings-{width}.png"), full_page=True)
    assert not page.csp_violations
