"""The ticket state machine: who moves a ticket where, and what each move leaves behind."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.support.models import Message, Status, Survey, Ticket
from shopkeep.support.services import (
    Side,
    ticket_assign,
    ticket_close,
    ticket_reopen,
    ticket_reply,
    ticket_set_status,
)
from tests.support.conftest import new_customer_ticket, new_platform_ticket

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple:
    return (sorted(Ticket.objects.values_list("pk", "status", "updated_at", "closed_at")),
            Message.objects.count(), Event.objects.count(), AuditLog.objects.count(),
            DBTaskResult.objects.count(), Survey.objects.count())


def test_a_new_platform_ticket_is_open_with_store_plan_and_a_running_clock(store, owner):
    store.plan = "growth"
    store.save()
    ticket = new_platform_ticket(store, owner, environment={"browser": "Chrome 120",
                                                            "os": "Windows 10/11"})
    assert ticket.status == Status.OPEN and ticket.plan == "growth"
    assert ticket.environment == {"browser": "Chrome 120", "os": "Windows 10/11"}
    assert ticket.sla_running_since is not None and ticket.due_at < ticket.breach_at
    assert ticket.messages.get().author == "requester"
    assert AuditLog.objects.filter(action="ticket.created", object_id=str(ticket.pk)).exists()
    # Platform tickets are between the store and us: no webhook event to the store's endpoints.
    assert not Event.objects.exists()


def test_urgent_needs_the_owner_to_confirm_the_store_is_down(store, owner):
    with pytest.raises(ServiceError) as refused:
        new_platform_ticket(store, owner, priority="urgent")
    assert refused.value.code == "urgent_unconfirmed"
    assert not Ticket.objects.exists()
    assert new_platform_ticket(store, owner, priority="urgent",
                               urgent_confirmed=True).priority == "urgent"


def test_staff_reply_waits_for_the_owner_and_mails_them(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    message = ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT,
                           body="Which endpoint URL did you configure?")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_STORE_OWNER
    assert ticket.waiting_since == message.created_at and ticket.first_response_at
    assert ticket.last_response_by == staff.get_full_name()
    assert ticket.sla_running_since is None and ticket.due_at is None  # paused
    task = DBTaskResult.objects.exclude(  # the staff's new-ticket mail
        args_kwargs__kwargs__subject__startswith="[Platform support]").get()
    assert task.args_kwargs["kwargs"]["to"] == [owner.email]


def test_owner_reply_goes_back_to_the_platform(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="Details?")
    ticket_reply(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                 body="It is https://example.com/hook")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_PLATFORM
    assert ticket.waiting_since is None and ticket.sla_running_since is not None


def test_an_owner_message_on_an_unreviewed_ticket_keeps_it_open(store, owner):
    ticket = new_platform_ticket(store, owner)
    ticket_reply(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                 body="One more detail.")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_staff_may_set_in_progress_but_stores_may_not(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    with pytest.raises(PermissionDenied):
        ticket_set_status(ticket=ticket, actor=Actor.for_user(owner), status="in_progress")
    ticket = ticket_set_status(ticket=ticket, actor=Actor.for_user(staff), status="in_progress")
    assert ticket.status == Status.IN_PROGRESS
    assert AuditLog.objects.filter(action="ticket.status_changed").count() == 1


def test_a_status_of_the_other_kind_is_refused(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    before = _snapshot()
    with pytest.raises(ServiceError):
        ticket_set_status(ticket=ticket, actor=Actor.for_user(staff),
                          status="waiting_for_customer")
    with pytest.raises(ServiceError):
        ticket_set_status(ticket=ticket, actor=Actor.for_user(staff), status="closed")
    assert _snapshot() == before


def test_internal_notes_change_nothing_the_store_sees(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    ticket.refresh_from_db()
    updated = ticket.updated_at
    DBTaskResult.objects.all().delete()  # the staff's new-ticket mail
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT,
                 body="Customer is on the legacy gateway", internal=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.updated_at == updated
    assert ticket.last_response_by == owner.get_full_name()
    assert not DBTaskResult.objects.exists()  # no e-mail about a note


def test_the_store_cannot_write_internal_notes(store, owner):
    ticket = new_platform_ticket(store, owner)
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                     body="psst", internal=True)
    assert _snapshot() == before


def test_owner_closes_with_a_final_message_and_gets_a_survey(store, owner):
    ticket = new_platform_ticket(store, owner)
    ticket = ticket_close(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                          message="Fixed it myself, thanks.")
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    assert ticket.messages.last().body == "Fixed it myself, thanks."
    assert Survey.objects.filter(ticket=ticket).count() == 1
    body = DBTaskResult.objects.exclude(  # the staff's new-ticket mail
        args_kwargs__kwargs__subject__startswith="[Platform support]"
    ).get().args_kwargs["kwargs"]["body"]
    assert "/support/survey/sv_" in body


def test_closing_twice_changes_nothing(store, owner):
    ticket = new_platform_ticket(store, owner)
    ticket_close(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER)
    before = _snapshot()
    with pytest.raises(Conflict):
        ticket_close(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                     message="again")
    assert _snapshot() == before


def test_a_closed_ticket_takes_no_reply_until_reopened(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    ticket_close(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT)
    before = _snapshot()
    with pytest.raises(Conflict):
        ticket_reply(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                     body="hello?")
    assert _snapshot() == before


def test_reopening_needs_a_message_from_the_owner_and_returns_to_open(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="Done.")
    ticket_close(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT)
    before = _snapshot()
    with pytest.raises(ServiceError) as refused:
        ticket_reopen(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                      message="  ")
    assert refused.value.code == "message_required" and _snapshot() == before
    ticket = ticket_reopen(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                           message="It broke again after the update.")
    assert ticket.status == Status.OPEN and ticket.closed_at is None
    assert ticket.sla_running_since is not None and ticket.sla_elapsed.total_seconds() == 0
    with pytest.raises(Conflict):
        ticket_reopen(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                      message="again")


def test_assignment_is_for_staff_only(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    with pytest.raises(PermissionDenied):
        ticket_assign(ticket=ticket, actor=Actor.for_user(owner), assignee=staff)
    with pytest.raises(ServiceError):
        ticket_assign(ticket=ticket, actor=Actor.for_user(staff), assignee=owner)
    assert ticket_assign(ticket=ticket, actor=Actor.for_user(staff),
                         assignee=staff).assignee == staff


# -- customer tickets ---------------------------------------------------------------------


def test_a_customer_ticket_emits_ticket_created_and_mails_both_sides(store, owner):
    ticket = new_customer_ticket(store)
    assert ticket.status == Status.OPEN and len(ticket.access_key) == 32
    event = Event.objects.get()
    assert event.event_type == "ticket.created" and event.data["ticket_id"] == ticket.pk
    recipients = [t.args_kwargs["kwargs"]["to"] for t in DBTaskResult.objects.all()]
    assert ["player@example.com"] in recipients and [owner.email] in recipients
    assert ticket.due_at is None  # SLA clocks are the platform's, not the store's


def test_customer_and_store_replies_move_the_ticket_and_only_customer_replies_emit(
        store, support_member):
    ticket = new_customer_ticket(store)
    ticket_reply(ticket=ticket, actor=Actor.for_user(support_member), side=Side.SUPPORT,
                 body="Which server?")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_CUSTOMER
    assert list(Event.objects.values_list("event_type", flat=True)) == ["ticket.created"]
    ticket_reply(ticket=ticket, actor=Actor.system("customer"), side=Side.REQUESTER,
                 body="Survival 1")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_STORE
    assert list(Event.objects.values_list("event_type", flat=True)) == [
        "ticket.created", "ticket.reply"]


def test_store_members_cannot_write_as_the_customer(store, owner):
    ticket = new_customer_ticket(store)
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                     body="I am the customer now")
    assert _snapshot() == before


def test_an_order_number_must_belong_to_the_customer(store):
    with pytest.raises(ServiceError) as refused:
        new_customer_ticket(store, order_number="ORD-NOPE000000")
    assert refused.value.field == "order_number"
    assert not Ticket.objects.exists() and not Event.objects.exists()
