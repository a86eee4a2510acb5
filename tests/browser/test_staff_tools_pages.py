"""The staff approval queue, canned replies and a ticket's priority and canned-reply picker
in Chromium at 390 and 1280 px; the owner's Live payments card. Screenshots under
var/screenshots/staff-tools/."""

from __future__ import annotations

import pytest

from shopkeep.stores.models import LiveApproval, Store
from shopkeep.support.models import CannedReply, Ticket
from tests.browser.test_layout_every_page import LAYOUT_PROBLEMS
from tests.browser.test_status_page import WIDTHS, _sign_in
from tests.factories import make_store, make_user, owner_of
from tests.support.conftest import new_platform_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page, folder, name: str) -> None:
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_approval_and_canned_reply_from_the_console(live_server, chromium, width,
                                                    screenshot_dir, settings):
    settings.SHOPKEEP_STORE_APPROVAL = True
    folder = screenshot_dir / "staff-tools"
    folder.mkdir(exist_ok=True)
    base = live_server.url
    staff = make_user(f"ops-{width}@shopkeep.example", is_staff=True)
    store = make_store(slug=f"shop-{width}", name="Block Party Network with a long name")
    ticket = new_platform_ticket(store, priority="low")
    context = chromium.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    _sign_in(page, base, owner_of(store).email)
    page.goto(f"{base}/dashboard/{store.slug}/settings/")
    page.fill("#approval-note", "We sell ranks on play.example.com")
    page.click("[data-testid=live-approval] button")
    assert "Approval requested" in page.inner_text(".messages")
    _check(page, folder, f"owner-pending-{width}")
    context.clear_cookies()

    _sign_in(page, base, staff.email)
    page.goto(f"{base}/staff/approvals/")
    assert "We sell ranks on play.example.com" in page.inner_text("main")
    _check(page, folder, f"approvals-{width}")
    page.click(f"[data-testid=approval-{store.slug}] button[value=approve]")
    assert "approved for live payments" in page.inner_text(".messages")
    assert Store.objects.get(pk=store.pk).live_approval == LiveApproval.APPROVED

    page.goto(f"{base}/staff/support/canned/")
    page.fill("input[name=title]", "Webhook 404")
    page.fill("textarea[name=body]", "Reconnect Stripe in Settings > Payments.")
    page.click("main form button[type=submit]")
    assert "saved" in page.inner_text(".messages")
    _check(page, folder, f"canned-{width}")

    page.goto(f"{base}/staff/support/tickets/{ticket.pk}/")
    page.click("text=Webhook 404")
    assert page.input_value("textarea[name=message]") == CannedReply.objects.get().body
    page.select_option("#priority", "high")
    page.click("text=Change priority")
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"
    _check(page, folder, f"ticket-{width}")
    assert errors == []
    context.close()
