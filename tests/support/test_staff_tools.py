"""Staff tools: priority changes, e-mail for new platform tickets and SLA breaches, canned
replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from shopkeep.stores.models import AuditLog
from shopkeep.support.models import CannedReply, Ticket
from shopkeep.support.staff_tools import breaches_notify
from tests.factories import make_user
from tests.platform.tasks_helper import run_queued_tasks
from tests.support.conftest import client_for, new_platform_ticket

pytestmark = pytest.mark.django_db


def _sent(mailoutbox):
    run_queued_tasks()
    return mailoutbox


def test_a_new_platform_ticket_emails_every_staff_member(store, owner, staff, mailoutbox):
    make_user("second@shopkeep.example", is_staff=True)
    ticket = new_platform_ticket(store, owner)
    mails = [m for m in _sent(mailoutbox) if "[Platform support]" in m.subject]
    assert len(mails) == 1
    assert mails[0].to == ["ops@shopkeep.example", "second@shopkeep.example"]
    assert ticket.number in mails[0].subject
    assert reverse("staff:ticket", args=[ticket.pk]) in mails[0].body


def test_a_breach_emails_the_assignee_once(store, owner, staff, clock, mailoutbox):
    store.plan = "pro"
    store.save()
    ticket = new_platform_ticket(store, owner)
    client_for(staff).post(reverse("staff:ticket_action", args=[ticket.pk]),
                           {"action": "assign", "assignee": str(staff.pk)})
    DBTaskResult.objects.all().delete()
    assert breaches_notify(now=clock.now) == 0
    clock.advance(days=3)
    assert breaches_notify(now=clock.now) == 1
    assert breaches_notify(now=clock.now) == 0  # the same breach is mailed once
    mails = [m for m in _sent(mailoutbox) if "SLA breached" in m.subject]
    assert [m.to for m in mails] == [["ops@shopkeep.example"]]


def test_staff_change_priority_with_an_audit_row(store, owner, staff):
    ticket = new_platform_ticket(store, owner, priority="low")
    response = client_for(staff).post(reverse("staff:ticket_action", args=[ticket.pk]),
                                      {"action": "priority", "priority": "urgent"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    row = AuditLog.objects.get(action="ticket.priority_changed")
    assert row.details == {"from": "low", "to": "urgent"} and row.actor_user == staff


def test_an_unknown_priority_changes_nothing(store, owner, staff):
    ticket = new_platform_ticket(store, owner, priority="low")
    client_for(staff).post(reverse("staff:ticket_action", args=[ticket.pk]),
                           {"action": "priority", "priority": "whenever"})
    assert Ticket.objects.get(pk=ticket.pk).priority == "low"
    assert not AuditLog.objects.filter(action="ticket.priority_changed").exists()


def test_store_owners_cannot_change_priority_or_see_canned_replies(store, owner, outsider):
    ticket = new_platform_ticket(store, owner, priority="low")
    for user in (owner, outsider):
        client = client_for(user)
        assert client.post(reverse("staff:ticket_action", args=[ticket.pk]),
                           {"action": "priority", "priority": "urgent"}).status_code == 404
        assert client.get(reverse("staff:canned")).status_code == 404
        assert client.post(reverse("staff:canned"), {"title": "x", "body": "y"}
                           ).status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).priority == "low"
    assert not CannedReply.objects.exists()


def test_canned_replies_are_kept_and_fill_the_reply_box(store, owner, staff):
    client = client_for(staff)
    client.post(reverse("staff:canned"), {
        "title": "Webhook 404", "body": "Check the webhook URL in Stripe's dashboard."})
    reply = CannedReply.objects.get()
    duplicate = client.post(reverse("staff:canned"), {"title": "Webhook 404", "body": "x"})
    assert "Another canned reply has this title" in duplicate.content.decode()
    assert CannedReply.objects.count() == 1
    ticket = new_platform_ticket(store, owner)
    page = client.get(reverse("staff:ticket", args=[ticket.pk]) + f"?canned={reply.pk}")
    assert page.context["reply_form"].initial["message"] == reply.body
    assert "Check the webhook URL" in page.content.decode()
    assert client.get(reverse("staff:ticket", args=[ticket.pk]) + "?canned=99999"
                      ).context["reply_form"].initial == {}
    client.post(reverse("staff:canned_edit", args=[reply.pk]), {"title": "Webhook 404",
                                                                 "body": "New text."})
    assert CannedReply.objects.get().body == "New text."
    client.post(reverse("staff:canned_delete", args=[reply.pk]))
    assert not CannedReply.objects.exists()
    assert list(AuditLog.objects.filter(action__startswith="support.canned").order_by("id")
                .values_list("action", flat=True)) == [
        "support.canned_reply_saved", "support.canned_reply_saved",
        "support.canned_reply_deleted"]


def test_breach_time_moves_and_a_new_breach_is_mailed_again(store, owner, staff, clock):
    store.plan = "pro"
    store.save()
    ticket = new_platform_ticket(store, owner)
    clock.advance(days=3)
    assert breaches_notify(now=clock.now) == 1
    Ticket.objects.filter(pk=ticket.pk).update(breach_at=clock.now + timedelta(hours=1))
    clock.advance(hours=2)
    assert breaches_notify(now=clock.now) == 1
