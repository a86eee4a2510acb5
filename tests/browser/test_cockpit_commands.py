"""Issue 15 in Chromium at 390 and 1280 px: Send test command with its result turning green
live when a real agent API call confirms it; the customer page with lifetime value, notes,
manual delivery and a ban; checkout refused for the banned buyer; the bans page."""

from __future__ import annotations

import httpx
import pytest

from shopkeep.customers.models import Customer
from shopkeep.delivery.services import server_create
from shopkeep.orders.models import Order
from shopkeep.stores.audit import Actor
from tests.browser.test_layout_every_page import LAYOUT_PROBLEMS
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = [(390, 844), (1280, 800)]


def _check(page, shot) -> None:
    page.screenshot(path=str(shot), full_page=True)
    assert page.evaluate(LAYOUT_PROBLEMS) == []


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_test_command_customer_page_and_ban(live_server, page, size, screenshot_dir,
                                            django_capture_on_commit_callbacks):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    base, tag = live_server.url, f"{size[0]}x{size[1]}"
    store = make_shop(slug="shop", name="Block Party")
    owner = owner_of(store)
    server, server_secret, store_secret = server_create(
        store=store, actor=Actor.for_user(owner), name="Survival", game="minecraft")
    product = make_product(store, name="VIP Rank", purchase_command="lp user {player} parent "
                           "add vip")
    paid_order(store, product, capture=django_capture_on_commit_callbacks,
               email="steve@example.com")
    customer = Customer.objects.get(store=store)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")

    # Send test command from the server page; the result box waits for the agent.
    page.goto(f"{base}/dashboard/shop/servers/{server.pk}/")
    _check(page, screenshot_dir / f"server-commands-{tag}.png")
    page.fill("#tc-command", "say Hello {player}")
    page.fill("#tc-player", "Notch")
    page.click("[data-testid=send-test-command] button[type=submit]")
    assert page.get_attribute("[data-testid=adhoc-result]", "data-status") == "pending"
    _check(page, screenshot_dir / f"test-command-pending-{tag}.png")

    # The agent, over real HTTP: pull, then confirm with the game's output.
    agent = {"X-Store-Secret": store_secret, "X-Server-Secret": server_secret,
             "X-Agent-Instance": "browser-test"}
    pending = httpx.get(f"{base}/api/v1/agent/commands/pending", headers=agent).json()
    test = next(c for c in pending["commands"] if c["test"])
    assert test["order"] is None
    httpx.post(f"{base}/api/v1/agent/commands/{test['id']}/confirm", headers=agent,
               json={"output": "[Server] Hello Notch"}).raise_for_status()
    page.wait_for_selector("[data-testid=adhoc-result][data-status=completed]", timeout=10_000)
    assert "[Server] Hello Notch" in page.inner_text("[data-testid=adhoc-output]")
    _check(page, screenshot_dir / f"test-command-done-{tag}.png")

    # The customer page: a note, a manual delivery, then a ban.
    page.goto(f"{base}/dashboard/shop/customers/{customer.pk}/")
    assert "29.99 USD" in page.inner_text("[data-testid=lifetime-value]")
    page.fill("textarea[name=body]", "Regular since the first season.")
    page.click("form[action$='/notes/'] button[type=submit]")
    assert "Regular since the first season." in page.inner_text("[data-testid=customer-notes]")
    page.fill("[data-testid=manual-product-form] input[name=mp-reason]", "Lost rank in a wipe")
    page.click("[data-testid=manual-product-form] button[type=submit]")
    assert "queued" in page.inner_text(".messages")
    page.fill("[data-testid=customer-ban-form] input[name=reason]", "Chargeback abuse")
    page.fill("[data-testid=customer-ban-form] input[name=public_message]",
              "Orders from you are not accepted. Appeal on our Discord.")
    page.click("[data-testid=customer-ban-form] button[type=submit]")
    page.wait_for_selector("[data-testid=banned-badge]")
    _check(page, screenshot_dir / f"customer-page-{tag}.png")

    page.goto(f"{base}/dashboard/shop/bans/")
    page.fill("[data-testid=ban-form] input[name=value]", "203.0.113.50")
    page.select_option("[data-testid=ban-form] select[name=kind]", "ip")
    page.fill("[data-testid=ban-form] input[name=reason]", "Card testing")
    page.click("[data-testid=ban-form] button[type=submit]")
    assert "203.0.113.50" in page.inner_text("[data-testid=ban-list]")
    _check(page, screenshot_dir / f"bans-{tag}.png")

    # The banned buyer at checkout: a clear refusal, no order.
    orders = Order.objects.count()
    buyer = page.context.browser.new_context(viewport={"width": size[0], "height": size[1]})
    shop = buyer.new_page()
    shop.goto(f"{base}/s/shop/p/{product.slug}/")
    shop.click("button:has-text('Add to basket')")
    shop.goto(f"{base}/s/shop/checkout/")
    shop.fill("input[name=email]", "steve@example.com")
    shop.fill("input[name=player_name]", "Steve")
    shop.check("input[name=accept_terms]")
    shop.click("button:has-text('Continue to payment')")
    assert "Appeal on our Discord." in shop.inner_text("main")
    shop.screenshot(path=str(screenshot_dir / f"checkout-banned-{tag}.png"), full_page=True)
    buyer.close()
    assert Order.objects.count() == orders
    assert [e for e in errors if "favicon" not in e] == []
