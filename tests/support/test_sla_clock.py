"""The platform's response clock on tickets: plan targets in business hours, pauses while
waiting for the store owner, breach markers, and the staff queue's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shopkeep.stores.audit import Actor
from shopkeep.support.selectors import staff_queue
from shopkeep.support.services import (
    Side,
    ticket_close,
    ticket_reopen,
    ticket_reply,
    ticket_set_status,
)
from tests.support.conftest import new_platform_ticket

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


@pytest.fixture
def on_plan(store):
    def set_plan(plan: str):
        store.plan = plan
        store.save()
        return store

    return set_plan


def test_free_plan_targets_cross_the_dst_change(store, owner, clock, on_plan):
    on_plan("free")
    clock.set(utc(ny(2026, 3, 6, 16, 0)))  # Friday 16:00 EST, one business hour left
    ticket = new_platform_ticket(store, owner)
    # 1 h Friday + 5 days x 8 h + 7 h: Monday 16 March 16:00, now EDT.
    assert ticket.due_at == utc(ny(2026, 3, 16, 16, 0))
    assert ticket.due_at.astimezone(NY).utcoffset() == -4 * H
    # 72 h: 1 + 40 + 24 + 7 -> Thursday 19 March 16:00 EDT.
    assert ticket.breach_at == utc(ny(2026, 3, 19, 16, 0))


def test_starter_plan_skips_thanksgiving(store, owner, clock, on_plan):
    on_plan("starter")
    clock.set(utc(ny(2026, 11, 25, 16, 0)))  # Wednesday before Thanksgiving
    ticket = new_platform_ticket(store, owner)
    # 1 h Wed, Thanksgiving closed, 8 h Fri, 8 h Mon, 7 h Tue -> Tue 1 Dec 16:00 EST.
    assert ticket.due_at == utc(ny(2026, 12, 1, 16, 0))


def test_pro_plan_runs_on_sundays_and_into_standard_time(store, owner, clock, on_plan):
    on_plan("pro")
    clock.set(utc(ny(2026, 11, 1, 21, 30)))  # Sunday, the day DST ends
    ticket = new_platform_ticket(store, owner)
    # 30 min Sunday, then 3.5 h from Monday 08:00 EST; breach 7.5 h from Monday 08:00.
    assert ticket.due_at == utc(ny(2026, 11, 2, 11, 30))
    assert ticket.breach_at == utc(ny(2026, 11, 2, 15, 30))


def test_the_clock_pauses_while_waiting_for_the_owner_and_keeps_what_it_counted(
        store, owner, staff, clock, on_plan):
    on_plan("pro")  # 4 h target, 8 h breach, 08:00-22:00 every day
    clock.set(utc(ny(2026, 3, 2, 10, 0)))
    ticket = new_platform_ticket(store, owner)
    clock.set(utc(ny(2026, 3, 2, 11, 0)))
    # Staff ask for the owner without answering (a status change): the hour is banked.
    ticket = ticket_set_status(ticket=ticket, actor=Actor.for_user(staff),
                               status="waiting_for_store_owner")
    assert ticket.sla_running_since is None and ticket.due_at is None
    assert ticket.sla_elapsed == H
    clock.set(utc(ny(2026, 3, 3, 9, 0)))  # the owner answers the next morning
    ticket_reply(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                 body="Here is the log.")
    ticket.refresh_from_db()
    # 3 h of the 4 h target remain; the night in between did not count.
    assert ticket.due_at == utc(ny(2026, 3, 3, 12, 0))
    assert ticket.breach_at == utc(ny(2026, 3, 3, 16, 0))


def test_a_staff_response_answers_the_count_and_the_next_one_starts_at_zero(
        store, owner, staff, clock, on_plan):
    on_plan("pro")
    clock.set(utc(ny(2026, 3, 2, 10, 0)))
    ticket = new_platform_ticket(store, owner)
    clock.set(utc(ny(2026, 3, 2, 12, 0)))
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="Try X")
    ticket.refresh_from_db()
    assert ticket.first_response_at == utc(ny(2026, 3, 2, 12, 0)) and not ticket.sla_breached
    clock.set(utc(ny(2026, 3, 2, 21, 0)))
    ticket_reply(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER, body="No.")
    ticket.refresh_from_db()
    # 1 h Monday evening + 3 h Tuesday from 08:00.
    assert ticket.due_at == utc(ny(2026, 3, 3, 11, 0))


def test_breach_markers_over_target_then_breached_and_kept_after_a_late_answer(
        store, owner, staff, clock, on_plan):
    on_plan("pro")
    clock.set(utc(ny(2026, 3, 2, 10, 0)))
    ticket = new_platform_ticket(store, owner)
    assert ticket.sla_state(utc(ny(2026, 3, 2, 13, 59))) == "ok"
    assert ticket.sla_state(utc(ny(2026, 3, 2, 14, 0))) == "over_target"
    assert ticket.sla_state(utc(ny(2026, 3, 2, 18, 0))) == "breached"
    clock.set(utc(ny(2026, 3, 2, 19, 0)))
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="Sorry!")
    ticket.refresh_from_db()
    assert ticket.sla_breached and ticket.sla_state(clock.now) == "breached"


def test_a_timely_answer_is_not_a_breach(store, owner, staff, clock, on_plan):
    on_plan("pro")
    clock.set(utc(ny(2026, 3, 2, 10, 0)))
    ticket = new_platform_ticket(store, owner)
    clock.set(utc(ny(2026, 3, 2, 17, 59)))  # over target, still before the breach
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="Here.")
    ticket.refresh_from_db()
    assert not ticket.sla_breached and ticket.sla_state(clock.now) == "paused"


def test_closing_stops_the_clock_and_reopening_starts_a_fresh_one(
        store, owner, staff, clock, on_plan):
    on_plan("growth")  # 12 h target, Mon-Fri 09:00-19:00
    clock.set(utc(ny(2026, 3, 2, 9, 0)))
    ticket = new_platform_ticket(store, owner)
    clock.set(utc(ny(2026, 3, 2, 15, 0)))
    ticket = ticket_close(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER)
    assert ticket.due_at is None and ticket.sla_state(clock.now) == "paused"
    clock.set(utc(ny(2026, 3, 6, 18, 0)))  # Friday 18:00: one business hour left
    ticket = ticket_reopen(ticket=ticket, actor=Actor.for_user(owner), side=Side.REQUESTER,
                           message="Back again")
    # 1 h Friday + 10 h Monday + 1 h Tuesday: the six hours before closing do not count.
    assert ticket.due_at == utc(ny(2026, 3, 10, 10, 0))


def test_the_staff_queue_puts_urgent_first_then_the_earliest_due(store, owner, staff, clock,
                                                                  on_plan, outsider_store):
    on_plan("free")
    outsider_store.plan = "pro"
    outsider_store.save()
    clock.set(utc(ny(2026, 3, 2, 10, 0)))
    free_high = new_platform_ticket(store, owner, subject="Free, high")
    pro_low = new_platform_ticket(outsider_store, subject="Pro, low", priority="low")
    urgent = new_platform_ticket(store, owner, subject="Down", priority="urgent",
                                 urgent_confirmed=True)
    waiting = new_platform_ticket(outsider_store, subject="Waiting")
    ticket_reply(ticket=waiting, actor=Actor.for_user(staff), side=Side.SUPPORT, body="?")
    closed = new_platform_ticket(store, owner, subject="Done")
    ticket_close(ticket=closed, actor=Actor.for_user(owner), side=Side.REQUESTER)
    order = [t.pk for t in staff_queue(now=clock.now)]
    # Urgent first; the Pro ticket is due in 4 h, the Free one in 48 h; paused clocks last;
    # closed tickets only when asked for.
    assert order == [urgent.pk, pro_low.pk, free_high.pk, waiting.pk]
    assert closed.pk in [t.pk for t in staff_queue(group="all", now=clock.now)]
    clock.set(utc(ny(2026, 3, 2, 18, 30)))  # past the Pro breach
    assert [t.pk for t in staff_queue(breached=True, now=clock.now)] == [pro_low.pk]
