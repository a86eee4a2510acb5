"""The platform's response clock on a platform ticket, in the plan's business hours.

One clock per ticket measures the platform's *next* response: it runs while the ball is
with the platform and pauses while the ticket waits for the store owner (or is closed).
Business time is accumulated across running periods, so a pause never restarts the count; a
public staff response satisfies the pending response and starts the next count at zero.

``due_at`` (the plan's target, the lower bound of seed 000's range) and ``breach_at`` (the
upper bound) are recomputed at every transition from the accumulated time, so the staff
queue can sort and mark breaches in SQL. The calendar arithmetic lives in
``business_hours`` (per local day on ``zoneinfo``; never a timedelta on a local time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shopkeep.support.business_hours import (
    PLAN_SCHEDULES,
    PLAN_TARGETS,
    add_business_time,
    business_time_between,
)
from shopkeep.support.models import Kind, Ticket

ZERO = timedelta(0)


def _applies(ticket: Ticket) -> bool:
    return ticket.kind == Kind.PLATFORM


def _plan(ticket: Ticket) -> str:
    return ticket.plan if ticket.plan in PLAN_SCHEDULES else "free"


def targets(plan: str) -> tuple[timedelta, timedelta]:
    target, breach = PLAN_TARGETS[plan if plan in PLAN_TARGETS else "free"]
    return timedelta(hours=target), timedelta(hours=breach)


def _recompute(ticket: Ticket) -> None:
    if ticket.sla_running_since is None:
        ticket.due_at = ticket.breach_at = None
        return
    schedule = PLAN_SCHEDULES[_plan(ticket)]
    target, breach = targets(_plan(ticket))
    ticket.due_at = add_business_time(ticket.sla_running_since,
                                      max(target - ticket.sla_elapsed, ZERO), schedule)
    ticket.breach_at = add_business_time(ticket.sla_running_since,
                                         max(breach - ticket.sla_elapsed, ZERO), schedule)


def elapsed(ticket: Ticket, now: datetime) -> timedelta:
    """Business time the pending response has waited so far."""
    if ticket.sla_running_since is None:
        return ticket.sla_elapsed
    schedule = PLAN_SCHEDULES[_plan(ticket)]
    return ticket.sla_elapsed + business_time_between(ticket.sla_running_since, now, schedule)


def resume(ticket: Ticket, now: datetime) -> None:
    """The ball is with the platform (new ticket, owner reply, status back from waiting)."""
    if not _applies(ticket) or ticket.sla_running_since is not None:
        return
    ticket.sla_running_since = now
    _recompute(ticket)


def pause(ticket: Ticket, now: datetime) -> None:
    """Waiting for the store owner or closed: bank the business time spent so far."""
    if not _applies(ticket) or ticket.sla_running_since is None:
        return
    ticket.sla_elapsed = elapsed(ticket, now)
    ticket.sla_running_since = None
    _recompute(ticket)


def responded(ticket: Ticket, now: datetime) -> None:
    """A public staff response: it answers the pending count, which then starts again."""
    if not _applies(ticket):
        return
    if ticket.breach_at is not None and now >= ticket.breach_at:
        ticket.sla_breached = True
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    pause(ticket, now)
    ticket.sla_elapsed = ZERO


def restart(ticket: Ticket, now: datetime) -> None:
    """A reopened ticket is a new request: a fresh count from zero."""
    if not _applies(ticket):
        return
    ticket.sla_running_since = None
    ticket.sla_elapsed = ZERO
    resume(ticket, now)
