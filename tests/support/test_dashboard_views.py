"""Dashboard pages: Platform Support (create, suggestions, list, ticket page) and Support."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.support.models import GuideView, Message, Status, Ticket
from shopkeep.support.services import Side, ticket_close, ticket_reply
from tests.support.conftest import client_for, new_customer_ticket, new_platform_ticket, png

pytestmark = pytest.mark.django_db
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")


def url(name: str, store, *args) -> str:
    return reverse(f"dashboard:{name}", args=[store.slug, *args])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_creating_a_ticket_records_store_plan_browser_and_os(store, owner):
    response = client_for(owner).post(url("platform_ticket_create", store), {
        "subject": "Stripe webhook returning 404", "category": "technical",
        "priority": "high", "description": "Since yesterday 2 PM.",
        "attachments": [png()]}, HTTP_USER_AGENT=CHROME)
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("platform_ticket", store, ticket.pk)
    assert ticket.environment["browser"] == "Chrome 120"
    assert ticket.environment["os"] == "Windows 10/11"
    assert ticket.plan == store.plan and ticket.created_by == owner
    assert ticket.attachments.count() == 1


def test_urgent_without_confirmation_is_a_form_error(store, owner):
    response = client_for(owner).post(url("platform_ticket_create", store), {
        "subject": "Store down", "category": "technical", "priority": "urgent",
        "description": "Nothing loads"})
    assert response.status_code == 400
    assert "cannot take payments" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_hostile_attachment_is_a_form_error_and_nothing_is_saved(store, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    html = SimpleUploadedFile("cat.png", b"<html><script>alert(1)</script>", "image/png")
    response = client_for(owner).post(url("platform_ticket_create", store), {
        "subject": "Look", "category": "general", "priority": "low",
        "description": "see file", "attachments": [html]})
    assert response.status_code == 400
    assert "cat: attach images (PNG, JPEG, GIF, WebP)" in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_writer_is_told_why_text_was_removed(store, owner):
    response = client_for(owner).post(url("platform_ticket_create", store), {
        "subject": "Billing", "category": "billing", "priority": "normal",
        "description": "Charged twice on 4242 4242 4242 4242"}, follow=True)
    assert any("card number" in m and "Never share" in m for m in _messages(response))
    assert "4242 4242" not in Ticket.objects.get().messages.get().body


def test_the_form_shows_guided_prompts_per_category(store, owner):
    page = client_for(owner).get(url("platform_ticket_create", store)).content.decode()
    for prompt in ("Steps to reproduce", "Invoice number or charge date", "Use case",
                   "store is down or completely unable to process payments"):
        assert prompt in page


def test_subject_suggestions_come_from_the_knowledge_base(store, owner):
    client = client_for(owner)
    found = client.get(url("platform_suggest", store) + "?subject=stripe+webhook+not+working")
    text = found.content.decode()
    assert "Webhook Not Receiving Events" in text and "Payment Gateway Not Working" in text
    nothing = client.get(url("platform_suggest", store) + "?subject=the")
    assert b"suggested-guide" not in nothing.content


def test_opening_a_guide_is_recorded_and_a_following_ticket_is_linked(store, owner):
    client = client_for(owner)
    assert client.get(url("platform_guide", store, "cant-log-in")).status_code == 200
    view = GuideView.objects.get()
    assert view.store == store and view.user == owner and view.ticket is None
    ticket = new_platform_ticket(store, owner)
    view.refresh_from_db()
    assert view.ticket == ticket


def test_the_list_filters_searches_and_counts(store, owner, staff):
    first = new_platform_ticket(store, owner, subject="Stripe webhook 404")
    waiting = new_platform_ticket(store, owner, subject="Discord roles")
    ticket_reply(ticket=waiting, actor=Actor.for_user(staff), side=Side.SUPPORT, body="?")
    done = new_platform_ticket(store, owner, subject="Invoice")
    ticket_close(ticket=done, actor=Actor.for_user(owner), side=Side.REQUESTER)
    client = client_for(owner)
    page = client.get(url("platform_support", store))
    stats = {name: count for name, _, count in page.context["stats"]}
    assert stats == {"open": 1, "in_progress": 0, "waiting": 1, "closed": 1}
    assert "Resolved" in page.content.decode() and "Waiting for You" in page.content.decode()

    def listed(query: str) -> list[int]:
        return [t.pk for t in client.get(url("platform_support", store) + query)
                .context["page"]]

    assert listed("?status=waiting") == [waiting.pk]
    assert listed("?status=closed") == [done.pk]
    assert listed("?q=stripe") == [first.pk]
    assert listed(f"?q=%23{done.pk}") == [done.pk]


def test_the_ticket_page_shows_history_status_and_last_response(store, owner, staff):
    staff.name = "Dana"
    staff.save()
    ticket = new_platform_ticket(store, owner, files=[png("error.png")])
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT,
                 body="Please check the URL.")
    page = client_for(owner).get(url("platform_ticket", store, ticket.pk)).content.decode()
    assert "Waiting for Store Owner" in page and "Please check the URL." in page
    assert "by Dana" in page and "error.png" in page and "Shopkeep team" in page


def test_owner_reply_close_and_reopen_through_the_pages(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="Logs?")
    client = client_for(owner)
    client.post(url("platform_reply", store, ticket.pk), {"message": "Attached."})
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_PLATFORM
    client.post(url("platform_close", store, ticket.pk), {"message": "Solved, thanks"})
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    refused = client.post(url("platform_reopen", store, ticket.pk), {"message": ""},
                          follow=True)
    assert any("Say what you need" in m for m in _messages(refused))
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    client.post(url("platform_reopen", store, ticket.pk), {"message": "It is back"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_deletion_erases_content_and_files_and_leaves_a_tombstone(
        store, owner, django_capture_on_commit_callbacks):
    ticket = new_platform_ticket(store, owner, description="private details",
                                 files=[png()])
    path = Path(ticket.attachments.get().file.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(url("platform_delete", store, ticket.pk))
    assert response.status_code == 302
    assert not Ticket.objects.exists() and not Message.objects.exists()
    tombstone = AuditLog.objects.get(action="ticket.deleted")
    assert tombstone.store == store and tombstone.details["ticket_id"] == ticket.pk
    assert tombstone.details["messages"] == 1 and tombstone.details["attachments"] == 1
    assert "private details" not in str(tombstone.details)
    assert not path.exists()


def test_customer_tickets_list_and_status_changes(store, support_member):
    ticket = new_customer_ticket(store, subject="VIP missing")
    client = client_for(support_member)
    page = client.get(url("support", store))
    assert [t.pk for t in page.context["page"]] == [ticket.pk]
    client.post(url("support_status", store, ticket.pk), {"action": "status",
                                                          "status": "in_progress"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    client.post(url("support_reply", store, ticket.pk), {"message": "Note", "internal": "on"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.messages.last().internal
    client.post(url("support_status", store, ticket.pk), {"action": "close"})
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    client.post(url("support_status", store, ticket.pk), {"action": "reopen"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_nav_links_the_two_sections(store, owner):
    page = client_for(owner).get(url("overview", store)).content.decode()
    assert url("support", store) in page and url("platform_support", store) in page
