"""Settings > Plan and the staff console's Plans in Chromium at 390 and 1280 px, with
billing on against the local fake Stripe: a store over its plan's limit, the plan cards and
an invoice. Screenshots under var/screenshots/plan/."""

from __future__ import annotations

import pytest

from shopkeep.platform.billing import checkout_start, event_apply
from shopkeep.stores.audit import Actor
from tests.browser.test_layout_every_page import LAYOUT_PROBLEMS
from tests.browser.test_status_page import WIDTHS, _sign_in
from tests.delivery.conftest import add_server
from tests.factories import make_store, make_user, owner_of
from tests.payments.conftest import _fake_server, fake_stripe  # noqa: F401  (fixtures)
from tests.platform.conftest import billing  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _subscribe(store, billing) -> None:  # noqa: F811
    """Services only: Django's test client cannot run beside Playwright's event loop
    (the webhook itself is tested in tests/platform/test_billing.py)."""
    url = checkout_start(store=store, actor=Actor.for_user(owner_of(store)),
                         plan=billing["growth"], interval="month")
    for event in billing["fake"].complete_session(url.rsplit("/", 1)[1]):
        event_apply(event)


def _check(page, folder, name: str) -> None:
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_page_and_staff_plans(live_server, chromium, width, screenshot_dir,
                                   billing):  # noqa: F811
    folder = screenshot_dir / "plan"
    folder.mkdir(exist_ok=True)
    base = live_server.url
    free_store = make_store(slug=f"free-{width}", name="Free Store With A Long Name")
    add_server(free_store, "Survival")
    paid = make_store(slug=f"paid-{width}", name="Growth Store")
    _subscribe(paid, billing)
    staff = make_user(f"ops-{width}@shopkeep.example", is_staff=True)
    context = chromium.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    _sign_in(page, base, owner_of(free_store).email)
    page.goto(f"{base}/dashboard/{free_store.slug}/settings/plan/")
    assert "full" in page.inner_text("[data-testid=current-plan]")
    assert page.locator("[data-testid=plan-growth] button").count() == 2
    _check(page, folder, f"plan-free-{width}")
    # Nothing leaves the machine: Stripe's hosted page is answered here. Reaching it shows
    # the redirect passed the page's CSP form-action.
    page.route("https://checkout.stripe.com/**",
               lambda route: route.fulfill(body="Stripe Checkout", content_type="text/plain"))
    page.click("[data-testid=plan-growth] button[value=month]")
    page.wait_for_url("https://checkout.stripe.com/c/pay/cs_*")
    context.clear_cookies()

    _sign_in(page, base, owner_of(paid).email)
    page.goto(f"{base}/dashboard/{paid.slug}/settings/plan/")
    text = page.inner_text("main")
    assert "Growth" in text and "19.00 USD" in text and "PDF" in text
    _check(page, folder, f"plan-growth-{width}")
    context.clear_cookies()

    _sign_in(page, base, staff.email)
    page.goto(f"{base}/staff/plans/")
    assert "Growth" in page.inner_text("table")
    _check(page, folder, f"staff-plans-{width}")
    assert errors == []
    context.close()
