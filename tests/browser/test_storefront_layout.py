"""Every storefront page at a phone (390x844) and a laptop (1280x800): no horizontal
scrolling, no text overflowing its box, no console errors; both bundled themes; the demo
store's products have images."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from shopkeep.catalog.models import Category
from shopkeep.stores.audit import Actor
from shopkeep.themes.demo import seed_demo_storefront
from shopkeep.themes.services import storefront_draft_update, storefront_publish
from tests.commerce import make_product, make_shop
from tests.factories import owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(390, 844), (1280, 800)]
# Elements whose content may scroll inside them by design (tables, the category tabs).
SCROLLERS = (".table-wrap, .table-scroll, .category-tabs, .address code, .brand-name, "
             ".gallery-strip")

OVERFLOW_JS = """(scrollers) => {
  const bad = [];
  const inScroller = (el) => el.closest(scrollers);
  for (const el of document.querySelectorAll('main *, header *, footer *')) {
    if (inScroller(el) || el.matches(scrollers)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.position === 'absolute') continue;
    if (el.scrollWidth > el.clientWidth + 1 && style.overflowX === 'visible'
        && el.clientWidth > 0) bad.push(el.tagName + '.' + el.className + ': ' +
        (el.textContent || '').trim().slice(0, 40));
    const r = el.getBoundingClientRect();
    if (r.right > document.documentElement.clientWidth + 1) bad.push('off-screen ' +
        el.tagName + '.' + el.className);
  }
  return bad;
}"""


def _shop(theme: str):
    store = make_shop(slug="shop", name="Block Party Survival Network")
    actor = Actor.for_user(owner_of(store))
    Category.objects.create(store=store, name="Items", slug="items")
    vip = make_product(store, name="VIP Rank", price="29.99", is_featured=True,
                       slug="vip-rank", description="**VIP** for life.")
    make_product(store, name="Diamond Kit", price="4.99", slug="diamond-kit")
    seed_demo_storefront(store=store, actor=actor)
    storefront_draft_update(store=store, actor=actor, changes={"theme": theme})
    storefront_publish(store=store, actor=actor)
    cache.clear()
    return store, vip


def _check(page, url: str, errors: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, url
    assert page.evaluate(OVERFLOW_JS, SCROLLERS) == [], url
    assert errors == [], (url, errors)


@pytest.mark.parametrize("theme", ["default", "midnight"])
def test_every_storefront_page_fits_phone_and_laptop(live_server, chromium, theme):
    _shop(theme)
    base = f"{live_server.url}/s/shop"
    for width, height in VIEWPORTS:
        context = chromium.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        for path in ("/", "/p/vip-rank/", "/p/gem-pack/", "/pages/rules/", "/account/login/",
                     "/account/signup/", "/support/new/", "/gift-card/", "/basket/"):
            _check(page, base + path, errors)
        # The demo art: every product card shows an image.
        page.goto(base + "/")
        cards = page.locator("[data-testid=product-card]")
        assert cards.count() >= 4
        assert page.locator("[data-testid=product-card] img").count() == cards.count()
        # Buy on this screen: listing button, basket with a quantity edit, checkout, pay.
        page.locator("[data-testid=product-card]", has_text="Diamond Kit").locator(
            "button").click()
        page.wait_for_url(re.compile(r"/basket/$"))
        page.fill("input[name=quantity]", "2")
        page.click("button:has-text('Update')")
        assert "9.98" in page.inner_text("[data-testid=basket-total]")
        _check(page, base + "/basket/", errors)
        _check(page, base + "/checkout/", errors)
        page.fill("input[name=email]", "steve@example.com")
        page.fill("input[name=player_name]", "Steve_01")
        page.check("input[name=accept_terms]")
        page.click("button:has-text('Continue to payment')")
        page.wait_for_url(re.compile(r"/pay/sandbox/"))
        assert "block party" in page.inner_text("header").lower()  # the store, not Shopkeep
        _check(page, page.url, errors)
        page.fill("input[name=card_number]", "4242 4242 4242 4242")
        page.click("button:has-text('Pay')")
        page.wait_for_url(re.compile(r"/order/\w+/$"))
        _check(page, page.url, errors)
        page.screenshot(path=f"var/screenshot-order-{theme}-{width}.png", full_page=True)
        page.click("text=Printable receipt")
        _check(page, page.url, errors)
        page.goto(base + "/")
        page.screenshot(path=f"var/screenshot-home-{theme}-{width}.png", full_page=True)
        context.close()
