"""Issue 13's gallery, widget opt-in and main domain pages in Chromium at 390x844 and
1280x800: the product page's gallery in both themes, the checkout's opt-in box, the
dashboard's Pictures tab and Domains page. No sideways scrolling, no console errors;
screenshots in var/screenshots/issue13/ to be looked at."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from shopkeep.stores.audit import Actor
from shopkeep.themes.demo import seed_demo_storefront
from shopkeep.themes.domains import domain_add, domain_check_record, domain_set_primary
from shopkeep.themes.services import storefront_draft_update, storefront_publish
from tests.browser.test_storefront_layout import OVERFLOW_JS, SCROLLERS
from tests.commerce import make_product, make_shop
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = [(390, 844), (1280, 800)]


def _store(theme: str):
    store = make_shop(slug="shop", name="Block Party Survival Network")
    actor = Actor.for_user(owner_of(store))
    make_product(store, name="VIP Rank", price="29.99", slug="vip-rank",
                 description="**VIP** for life.")
    seed_demo_storefront(store=store, actor=actor)  # its VIP rank has a three-picture gallery
    storefront_draft_update(store=store, actor=actor, changes={"theme": theme})
    storefront_publish(store=store, actor=actor)
    for host in ("a-very-long-store-domain-name.example.com", "play.example.net"):
        domain = domain_add(store=store, actor=actor, hostname=host)
        domain_check_record(domain_id=domain.pk, ok=True, error="")
    domain_set_primary(store=store, actor=actor, domain=domain)
    cache.clear()
    return store


def _fits(page, errors: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    assert page.evaluate(OVERFLOW_JS, SCROLLERS) == [], page.url
    assert errors == [], (page.url, errors)


@pytest.mark.parametrize("theme", ["default", "midnight"])
def test_gallery_opt_in_and_domain_pages_fit_phone_and_laptop(live_server, chromium,
                                                              screenshot_dir, theme):
    store = _store(theme)
    shots = screenshot_dir / "issue13"
    shots.mkdir(exist_ok=True)
    base = f"{live_server.url}/s/shop"
    for width, height in VIEWPORTS:
        context = chromium.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))

        page.goto(base + "/p/vip-rank/")
        _fits(page, errors)
        pictures = page.locator("[data-testid=gallery] img")
        assert pictures.count() == 3
        assert pictures.first.get_attribute("alt") == "The VIP kit: diamond tools and armour"
        # Every picture loaded (not a broken image) once scrolled into view.
        for n in range(3):
            pictures.nth(n).scroll_into_view_if_needed()
            assert pictures.nth(n).evaluate("img => img.complete && img.naturalWidth > 0")
        page.screenshot(path=str(shots / f"product-{theme}-{width}.png"), full_page=True)

        page.click("button:has-text('Add to basket')")
        page.wait_for_url(re.compile(r"/basket/$"))
        page.goto(base + "/checkout/")
        box = page.locator("input[name=show_in_widgets]")
        assert box.is_visible() and not box.is_checked()
        box.check()
        _fits(page, errors)
        page.screenshot(path=str(shots / f"checkout-{theme}-{width}.png"), full_page=True)

        if theme == "default":  # the dashboard does not change with the store's theme
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=login]", owner_of(store).email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/dashboard/"))
            vip = store.products.get(slug="vip-rank")
            page.goto(f"{live_server.url}/dashboard/shop/products/{vip.pk}/pictures/")
            assert page.locator("[data-testid=gallery-item]").count() == 3
            _fits(page, errors)
            page.screenshot(path=str(shots / f"dash-pictures-{width}.png"), full_page=True)
            page.locator("[data-testid=gallery-item]").nth(2).locator(
                "button:has-text('Earlier')").click()
            page.wait_for_load_state()
            assert "Picture moved earlier" in page.inner_text("main")
            page.goto(f"{live_server.url}/dashboard/shop/storefront/domains/")
            assert page.locator("[data-testid=primary-badge]").count() == 1
            _fits(page, errors)
            page.screenshot(path=str(shots / f"dash-domains-{width}.png"), full_page=True)
        context.close()
