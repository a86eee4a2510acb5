"""/status in Chromium at 390 and 1280 px: staff post an incident in the console, the public
page shows it with the 90-day bars, the owner's dashboard shows the banner, and a visitor
subscribes. Screenshots under var/screenshots/status/."""

from __future__ import annotations

import re

import pytest

from shopkeep.core.heartbeat import Beater
from shopkeep.platform.models import Incident, StatusSubscriber
from tests.browser.test_layout_every_page import LAYOUT_PROBLEMS
from tests.factories import PASSWORD, make_store, make_user, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/(dashboard|staff)/"))


def _check(page, folder, name: str) -> None:
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_incident_from_console_to_status_page_and_banner(live_server, chromium, width,
                                                          screenshot_dir):
    folder = screenshot_dir / "status"
    folder.mkdir(exist_ok=True)
    base = live_server.url
    for kind in ("worker", "dispatcher", "scheduler"):
        Beater(kind, f"{kind}:browser").beat()
    staff = make_user(f"ops-{width}@shopkeep.example", is_staff=True)
    store = make_store(slug=f"shop-{width}", name="Block Party")

    context = chromium.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/status/")
    assert "All systems operational" in page.inner_text("[data-testid=status-headline]")
    assert page.locator(".status-bars").count() == 5
    assert page.locator(".status-bars").first.locator("span").count() == 90
    _check(page, folder, f"status-ok-{width}")

    _sign_in(page, base, staff.email)
    page.goto(f"{base}/staff/status/")
    _check(page, folder, f"staff-status-{width}")
    page.fill("input[name=title]", "Checkout is slow for some card payments")
    page.select_option("select[name=impact]", "partial_outage")
    page.check("input[name=components][value=checkout]")
    page.fill("textarea[name=body]", "We see gateway timeouts and are investigating.")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/status/\d+/$"))
    assert "Posted" in page.inner_text(".messages")
    _check(page, folder, f"staff-incident-{width}")
    incident = Incident.objects.get()
    assert incident.components == ["checkout"]
    context.clear_cookies()

    page.goto(f"{base}/status/")
    assert "Partial outage" in page.inner_text("[data-testid=status-headline]")
    assert "Checkout is slow" in page.inner_text("main")
    page.fill("input[name=email]", f"fan-{width}@example.com")
    page.click(".status-subscribe button")
    assert "Check your inbox" in page.inner_text(".messages")
    _check(page, folder, f"status-incident-{width}")
    assert StatusSubscriber.objects.filter(email=f"fan-{width}@example.com",
                                           confirmed_at__isnull=True).exists()

    _sign_in(page, base, owner_of(store).email)
    page.goto(f"{base}/dashboard/{store.slug}/")
    assert "Checkout is slow" in page.inner_text("[data-testid=status-banner]")
    _check(page, folder, f"dashboard-banner-{width}")
    assert errors == []
    context.close()
