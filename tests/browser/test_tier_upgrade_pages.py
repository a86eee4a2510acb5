"""Tier groups in Chromium at phone and desktop sizes: the owner builds a ladder in the
dashboard, and a signed-in customer who holds the lower tier sees "Upgrade from VIP for ..."
on the storefront and the credit in the basket. Screenshots go to ``$SHOPKEEP_SCREENSHOTS``
(default: the test's tmp dir) to be looked at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import signing
from django.db import transaction

from shopkeep.promotions.models import TierGroup
from shopkeep.storefront.views import LOGIN_SALT
from tests.browser.test_promotions_pages import SIZES, _no_overflow
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import PASSWORD, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_an_owner_builds_a_ladder_and_a_holder_sees_the_upgrade_price(
        live_server, page, size, tmp_path, django_capture_on_commit_callbacks):
    shots = Path(os.environ.get("SHOPKEEP_SCREENSHOTS", tmp_path))
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    base = live_server.url
    store = make_shop(slug="shop", name="Block Party")
    vip = make_product(store, name="VIP", price="10.00")
    mvp = make_product(store, name="MVP", price="25.00", is_featured=True)
    with transaction.atomic():
        held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner_of(store).email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/"))
    page.goto(f"{base}/dashboard/shop/promotions/tier-groups/new/")
    page.fill("input[name=name]", "Ranks")
    page.select_option("select[name=tier_1]", str(vip.pk))
    page.select_option("select[name=tier_2]", str(mvp.pk))
    page.screenshot(path=str(shots / f"tier-form-{size}.png"), full_page=True)
    _no_overflow(page)
    page.click("button:has-text('Create tier group')")
    page.wait_for_url(re.compile(r"/promotions/tier-groups/$"))
    assert "VIP < MVP" in page.inner_text("main")
    assert TierGroup.objects.get().tiers.count() == 2
    page.screenshot(path=str(shots / f"tier-list-{size}.png"), full_page=True)
    _no_overflow(page)

    token = signing.TimestampSigner(salt=LOGIN_SALT).sign_object(
        {"c": held.customer_id, "s": store.pk})
    page.goto(f"{base}/s/shop/account/verify/{token}/")
    page.goto(f"{base}/s/shop/p/{mvp.slug}/")
    assert "Upgrade from VIP for 15.00 USD" in page.inner_text("[data-testid=upgrade-price]")
    page.screenshot(path=str(shots / f"tier-product-{size}.png"), full_page=True)
    _no_overflow(page)
    page.click("button:has-text('Add to basket')")
    page.wait_for_url(re.compile(r"/basket/$"))
    assert "10.00 USD credit" in page.inner_text("[data-testid=upgrade-label]")
    assert "15.00" in page.inner_text("[data-testid=basket-line]")
    page.screenshot(path=str(shots / f"tier-basket-{size}.png"), full_page=True)
    _no_overflow(page)
    assert not page.csp_violations, page.csp_violations
