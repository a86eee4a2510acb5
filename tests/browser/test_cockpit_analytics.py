"""The analytics page in Chromium at 390 and 1280 px: figures and three SVG charts render
under the strict CSP (no violations, no console errors) and nothing overflows."""

from __future__ import annotations

import pytest

from tests.browser.test_layout_every_page import LAYOUT_PROBLEMS
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_analytics_page_renders_charts_under_the_csp(live_server, page, size, screenshot_dir,
                                                     django_capture_on_commit_callbacks):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    store = make_shop(slug="shop", name="Block Party")
    product = make_product(store, name="VIP Rank")
    for n in range(3):
        paid_order(store, product, capture=django_capture_on_commit_callbacks,
                   email=f"buyer{n}@example.com")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(f"{live_server.url}/dashboard/shop/analytics/?period=30d&grain=day")
    assert page.locator("[data-testid=chart] svg rect").count() >= 2
    assert "89.97 USD" in page.inner_text("[data-testid=net-revenue]")
    page.screenshot(path=str(screenshot_dir / f"analytics-{size[0]}x{size[1]}.png"),
                    full_page=True)
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    assert errors == [] and page.csp_violations == []
