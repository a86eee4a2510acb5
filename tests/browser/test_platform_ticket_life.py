"""A platform ticket's whole life in Chromium: the owner is shown a guide while typing, opens
the ticket anyway, staff reply from the console, the owner replies, closes, reopens, and
answers the satisfaction survey from the e-mailed one-time link."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from shopkeep.support.models import GuideView, Status, Survey, Ticket
from tests.factories import PASSWORD, make_store, make_user, owner_of
from tests.support.conftest import ensure_guides

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    # Store owners land on their dashboard, platform staff on the staff console.
    page.wait_for_url(re.compile(r"/(dashboard|staff)/"))


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_platform_ticket_from_guide_to_survey(live_server, page, chromium, mailoutbox):
    base = live_server.url
    ensure_guides()
    store = make_store(slug="shop", name="Block Party")
    owner = owner_of(store)
    staff = make_user("ops@shopkeep.example", is_staff=True)

    # The owner starts a ticket; typing the subject suggests a guide, which they open.
    _sign_in(page, base, owner.email)
    page.goto(f"{base}/dashboard/shop/platform-support/")
    page.click("text=Create Ticket")
    page.wait_for_url(re.compile(r"/platform-support/new/$"))
    page.wait_for_load_state()
    page.type("input[name=subject]", "Stripe webhook not receiving events")
    guide = page.wait_for_selector("[data-testid=suggested-guide]:has-text('Webhook')")
    guide.click()
    assert "Webhook Not Receiving Events" in page.inner_text("[data-testid=guide-title]")
    assert GuideView.objects.filter(store=store, ticket__isnull=True).count() == 1

    # Still stuck: the ticket is written with the technical prompts showing.
    page.click("main a:has-text('Create Ticket')")
    page.fill("input[name=subject]", "Stripe webhook returning 404")
    page.select_option("select[name=category]", "technical")
    assert page.is_visible(".prompts[data-category=technical]")
    assert not page.is_visible(".prompts[data-category=billing]")
    page.select_option("select[name=priority]", "high")
    page.fill("textarea[name=description]", "All Stripe events show 404 since yesterday.")
    page.click("button:has-text('Submit')")
    page.wait_for_url(re.compile(r"/platform-support/\d+/$"))
    ticket = Ticket.objects.get()
    assert ticket.environment["browser"].startswith("Chrome")
    assert "Open" in page.inner_text("[data-testid=ticket-status]")
    assert GuideView.objects.get().ticket == ticket  # the guide did not avoid this one

    # Platform staff answer from the console queue.
    staff_context = chromium.new_context()
    console = staff_context.new_page()
    console.set_default_timeout(15_000)
    _sign_in(console, base, staff.email)
    console.goto(f"{base}/staff/support/")
    console.click(f"text={ticket.subject}")
    console.fill("[data-testid=staff-reply-form] textarea[name=message]",
                 "Which endpoint URL is configured in Stripe?")
    console.click("[data-testid=staff-reply-form] button:has-text('Send')")
    console.wait_for_selector("text=Reply sent")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_STORE_OWNER

    # The owner reads the answer and replies.
    page.reload()
    assert "Waiting for Store Owner" in page.inner_text("[data-testid=ticket-status]")
    assert "Which endpoint URL" in page.inner_text("[data-testid=history]")
    page.fill("[data-testid=reply-form] textarea[name=message]", "It is /webhooks/stripe")
    page.click("button:has-text('Send Reply')")
    page.wait_for_selector("text=Reply sent")
    assert "Waiting for Platform" in page.inner_text("[data-testid=ticket-status]")

    # Closing asks for confirmation, then the ticket is closed.
    page.fill("[data-testid=close-form] textarea[name=message]", "Found it: a typo. Thanks!")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Close Ticket')")
    page.wait_for_selector("[data-testid=reopen-form]")
    assert "Closed" in page.inner_text("[data-testid=ticket-status]")

    # The owner reopens it with a message.
    page.fill("[data-testid=reopen-form] textarea[name=message]", "The 404s are back.")
    page.click("button:has-text('Reopen Ticket')")
    page.wait_for_selector("[data-testid=reply-form]")
    assert "Open" in page.inner_text("[data-testid=ticket-status]")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.sla_running_since is not None

    # The closing e-mail carried a one-time survey link that needs no sign-in.
    _run_worker()
    closing = next(m for m in mailoutbox if "Ticket closed" in m.subject)
    assert closing.to == [owner.email]
    link = re.search(r"https?://\S+/support/survey/\S+/", closing.body).group(0)
    anonymous = chromium.new_context().new_page()
    anonymous.goto(base + link[link.index("/support/"):])
    anonymous.check("input[name=rating][value='5']")
    anonymous.fill("textarea[name=comment]", "Fast and friendly")
    anonymous.click("button:has-text('Send feedback')")
    anonymous.wait_for_selector("[data-testid=survey-done]")
    assert Survey.objects.get().rating == 5

    # Staff see the CSAT in the console.
    console.goto(f"{base}/staff/support/")
    assert "5.0 / 5" in console.inner_text("[data-testid=csat]")
    assert not page.csp_violations
    staff_context.close()
