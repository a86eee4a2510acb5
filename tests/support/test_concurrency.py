"""On PostgreSQL: two auto-close workers at once close each ticket once, and concurrent
replies to one ticket serialise on its row lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.support.jobs import tickets_auto_close
from shopkeep.support.models import Message, Status, Ticket
from shopkeep.support.services import Side, ticket_reply
from tests.factories import make_store, make_user, owner_of
from tests.support.conftest import new_platform_ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(count: int, work) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # surfaced by the caller; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_auto_close_workers_close_each_ticket_once():
    store = make_store(slug="shop")
    staff = make_user(is_staff=True)
    tickets = []
    for n in range(10):
        ticket = new_platform_ticket(store, owner_of(store), subject=f"Ticket {n}")
        ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="?")
        tickets.append(ticket.pk)
    Ticket.objects.update(waiting_since=timezone.now() - timedelta(days=8))
    results: list[dict] = []
    errors = _together(4, lambda n: results.append(tickets_auto_close()))
    assert errors == []
    assert sum(r["closed"] for r in results) == 10
    assert Ticket.objects.filter(status=Status.CLOSED).count() == 10
    assert Message.objects.filter(author="system").count() == 10
    assert AuditLog.objects.filter(action="ticket.auto_closed").count() == 10


def test_concurrent_owner_replies_all_land_and_leave_one_consistent_status():
    store = make_store(slug="shop")
    staff = make_user(is_staff=True)
    ticket = new_platform_ticket(store, owner_of(store))
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="?")
    owner = owner_of(store)
    errors = _together(8, lambda n: ticket_reply(ticket=ticket, actor=Actor.for_user(owner),
                                                 side=Side.REQUESTER, body=f"reply {n}"))
    assert errors == []
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_PLATFORM and ticket.waiting_since is None
    assert ticket.messages.filter(author="requester").count() == 9
