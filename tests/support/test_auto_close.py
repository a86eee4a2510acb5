"""The daily auto-close job: day-5 reminder, day-7 close, idempotent, stopped by a reply."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.support.jobs import tickets_auto_close
from shopkeep.support.models import Message, Status, Survey, Ticket
from shopkeep.support.services import Side, ticket_reply
from tests.support.conftest import new_customer_ticket, new_platform_ticket

pytestmark = pytest.mark.django_db


def _mails() -> list[dict]:
    return [t.args_kwargs["kwargs"] for t in DBTaskResult.objects.order_by("enqueued_at")]


@pytest.fixture
def waiting(store, owner, staff, clock):
    ticket = new_platform_ticket(store, owner)
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT,
                 body="Can you send the error text?")
    DBTaskResult.objects.all().delete()
    return ticket


def _state() -> tuple:
    return (sorted(Ticket.objects.values_list("pk", "status", "reminder_sent_at", "closed_at")),
            Message.objects.count(), AuditLog.objects.count(), DBTaskResult.objects.count(),
            Survey.objects.count())


def test_nothing_happens_before_day_five(waiting, clock):
    clock.advance(days=4, hours=23)
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 0}
    assert not DBTaskResult.objects.exists()


def test_day_five_reminds_once(waiting, clock, owner):
    clock.advance(days=5, minutes=1)
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 1}
    mail = _mails()[0]
    assert mail["to"] == [owner.email] and "closes automatically in 2 days" in mail["body"]
    before = _state()
    clock.advance(hours=23)  # the next daily run
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 0}
    assert _state() == before


def test_day_seven_closes_with_a_system_message_and_running_twice_changes_nothing(
        waiting, clock, owner):
    clock.advance(days=7, minutes=1)
    assert tickets_auto_close(now=clock.now) == {"closed": 1, "reminded": 0}
    waiting.refresh_from_db()
    assert waiting.status == Status.CLOSED and waiting.closed_at == clock.now
    system = waiting.messages.last()
    assert system.author == "system" and "within 7 days" in system.body
    assert "Ticket closed" in _mails()[0]["subject"]
    assert AuditLog.objects.filter(action="ticket.auto_closed").count() == 1
    before = _state()
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 0}
    clock.advance(days=1)
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 0}
    assert _state() == before


def test_a_reply_in_time_stops_the_countdown(waiting, clock, owner):
    clock.advance(days=6)
    ticket_reply(ticket=waiting, actor=Actor.for_user(owner), side=Side.REQUESTER,
                 body="Here it is: 404 Not Found")
    clock.advance(days=3)
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 0}
    waiting.refresh_from_db()
    assert waiting.status == Status.WAITING_FOR_PLATFORM


def test_a_new_wait_starts_a_new_countdown(waiting, clock, owner, staff):
    clock.advance(days=5, hours=1)
    tickets_auto_close(now=clock.now)
    ticket_reply(ticket=waiting, actor=Actor.for_user(owner), side=Side.REQUESTER, body="Log")
    ticket_reply(ticket=waiting, actor=Actor.for_user(staff), side=Side.SUPPORT, body="More?")
    clock.advance(days=5, hours=1)
    # The earlier reminder belonged to the earlier wait: this one is reminded again.
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 1}


def test_customer_tickets_waiting_for_the_customer_close_too(store, support_member, clock):
    ticket = new_customer_ticket(store)
    ticket_reply(ticket=ticket, actor=Actor.for_user(support_member), side=Side.SUPPORT,
                 body="Which server are you on?")
    clock.advance(days=8)
    assert tickets_auto_close(now=clock.now) == {"closed": 1, "reminded": 0}
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert not Survey.objects.exists()  # surveys are for platform tickets


def test_tickets_waiting_for_the_platform_are_never_closed(store, owner, clock):
    new_platform_ticket(store, owner)
    clock.advance(days=30)
    assert tickets_auto_close(now=clock.now) == {"closed": 0, "reminded": 0}
