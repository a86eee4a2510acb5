"""The owner's side of issue 18 in Chromium at phone and desktop sizes: a new server's
connection string, the command editor's safe-to-repeat suggestion, a command awaiting
review decided with Mark delivered, and the out-of-date agent flag."""

from __future__ import annotations

import pytest

from shopkeep.delivery.models import DeliveryCommand, GameServer
from shopkeep.orders.models import Order
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = [(390, 844), (1280, 800)]


def _fits(page) -> None:
    """Nothing this issue added overflows its box: the secrets card, the review buttons, the
    suggestion, the out-of-date badge. (The dashboard header and some existing cards are
    wider than a phone on every page; that is the dashboard layout's, left to its owner.)"""
    overflowing = page.evaluate("""() => [...document.querySelectorAll(
        'main pre.secret, main .card.notice, [data-testid=needs-review], ' +
        '[data-testid=safe-suggestion], [data-testid=agent-outdated]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX
                 !== 'auto').map(e => e.outerHTML.slice(0, 80))""")
    assert overflowing == []


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_owner_adds_a_server_sees_the_suggestion_and_reviews_a_command(live_server, page, size,
                                                                       screenshot_dir, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.SHOPKEEP_AGENT_LATEST_VERSION = "9.0.0"
    page.set_viewport_size({"width": size[0], "height": size[1]})
    base = live_server.url
    store = make_shop(slug="shop", name="Block Party")
    tag = f"{size[0]}x{size[1]}"

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")

    # A new server: the connection string for `shopkeep-agent init`, shown once.
    page.goto(f"{base}/dashboard/shop/servers/")
    page.fill("input[name=name]", "DayZ One")
    page.select_option("select[name=game]", "dayz")
    page.click("form button:has-text('Add')")
    text = page.inner_text("[data-testid=connection-string]")
    assert text.startswith("shopkeep+http://sks_") and text.endswith("?game=dayz")
    assert 'type = "battleye"' in page.inner_text("[data-testid=agent-config]")
    page.screenshot(path=str(screenshot_dir / f"server-connection-{tag}.png"), full_page=True)
    _fits(page)

    # The command editor suggests "safe to run again" for a rank command.
    product = make_product(store, name="VIP Rank",
                           purchase_command="lp user {player} parent add vip")
    page.goto(f"{base}/dashboard/shop/products/{product.pk}/commands/purchase/")
    assert "look safe to run again" in page.inner_text("[data-testid=safe-suggestion]")
    _fits(page)
    page.screenshot(path=str(screenshot_dir / f"actions-safe-{tag}.png"), full_page=True)

    # The agent crashed mid-command: the order page offers the two decisions.
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    command = DeliveryCommand.objects.get(order=order)
    DeliveryCommand.objects.filter(pk=command.pk).update(
        status="needs_review", attempt_count=1, last_error_code="AGENT_CRASHED_DURING_EXECUTION",
        last_error="The agent stopped while this command was being executed.")
    GameServer.objects.filter(store=store).update(agent_version="0.1.0")
    page.goto(f"{base}/dashboard/shop/orders/{order.pk}/")
    assert "Nobody knows whether this ran" in page.inner_text("[data-testid=needs-review]")
    _fits(page)
    page.screenshot(path=str(screenshot_dir / f"order-review-{tag}.png"), full_page=True)
    page.click("[data-testid=mark-delivered]")
    page.wait_for_selector("text=marked delivered")
    command.refresh_from_db()
    assert command.status == "completed"
    assert Order.objects.get(pk=order.pk).status == "completed"

    # The server list flags the old agent.
    page.goto(f"{base}/dashboard/shop/servers/")
    assert page.is_visible("[data-testid=agent-outdated]")
    _fits(page)
    page.screenshot(path=str(screenshot_dir / f"servers-outdated-{tag}.png"), full_page=True)
    assert not page.csp_violations
