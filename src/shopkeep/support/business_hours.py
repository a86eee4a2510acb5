"""Business-hours calendar for support SLA clocks (issue 7, seed 000 "Response Times").

Response targets are counted in business hours of the platform desk, in America/New_York
(the seed's "EST/EDT"), per plan:

    plan     target-breach  hours
    free     48-72 h        Mon-Fri 09:00-17:00
    starter  24-48 h        Mon-Fri 09:00-17:00
    growth   12-24 h        Mon-Fri 09:00-19:00
    pro       4-8 h         Mon-Sun 08:00-22:00

How the clock is computed
-------------------------
An interval walker over *local days*: for each local date the day's open window is built from
that date plus the schedule's local wall times, with the zone attached, and converted to UTC;
all arithmetic then happens on UTC instants. We never add a timedelta to an aware local
datetime, because Python does that on the wall clock (a "24 h" step across spring-forward is
23 real hours). Windows are half-open, ``[opens, closes)``.

Wall times that do not exist or exist twice (DST): a boundary is the *first instant at which
the local wall clock reads that time or later*.
- Nonexistent (spring-forward gap, e.g. 02:30 on 2026-03-08 in New York): the boundary is the
  transition instant itself (03:00 EDT), the first moment the clock reads 02:30 or later.
- Ambiguous (fall-back repeat, e.g. 01:30 on 2026-11-01): the first reading, i.e. ``fold=0``
  (01:30 EDT, not 01:30 EST).
New York changes its clocks at 02:00, outside every plan's window, so for the plans DST only
moves the windows in UTC and lengthens or shortens the *night*: on the fall-back Sunday
2026-11-01 Pro's 08:00-22:00 window is 08:00-22:00 EST, 14 real hours (not 15), and the night
before it (Sat 22:00 EDT to Sun 08:00 EST) is 11 real hours instead of 10. A schedule whose
window contains the transition gets a 13 h or 11 h day of real time, as the tests show.

Holidays
--------
The seed says "We observe major US holidays". The desk closes on these six US federal
holidays (``CLOSED_HOLIDAYS``), on the actual date and on the observed date that
``holidays.US`` lists when the date falls on a weekend (Saturday -> the Friday before,
Sunday -> the Monday after):
New Year's Day, Memorial Day, Independence Day, Labor Day, Thanksgiving Day, Christmas Day.
Examples: Independence Day 2026 is a Saturday, observed Friday 2026-07-03; New Year's Day 2022
is a Saturday, observed Friday 2021-12-31, which belongs to ``closed_days(2021)``.
The other five federal holidays (Martin Luther King Jr. Day, Washington's Birthday, Juneteenth,
Columbus Day, Veterans Day) are working days: most private businesses open on them and the
stores' players are online. The day after Thanksgiving is a working day (issue 7's case
Wed 2026-11-25 16:00 + 3 h -> Fri 2026-11-27 11:00 depends on it).

Every plan observes them, Pro included (seed 000: "We observe major US holidays" is said of
business hours in general). Monday-Friday desks (Free, Starter, Growth) close on the actual
date and on the observed weekday substitute. Pro's seven-day desk closes on the actual date
only (``observed_days=False``): observed days exist to give a Monday-Friday workforce a
weekday off, and a desk that works weekends takes the day itself, so Independence Day 2026
(a Saturday) closes Pro on Saturday 2026-07-04 and not also on Friday 2026-07-03.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

NEW_YORK: Final = ZoneInfo("America/New_York")

# Names exactly as holidays.US (language en_US) spells them; an observed day carries the
# library's " (observed)" suffix. closed_days() fails loudly if a name goes missing in a year,
# so a renaming in a future `holidays` release cannot silently open the desk.
CLOSED_HOLIDAYS: Final = frozenset(
    {
        "New Year's Day",
        "Memorial Day",
        "Independence Day",
        "Labor Day",
        "Thanksgiving Day",
        "Christmas Day",
    }
)
_OBSERVED_SUFFIX = " (observed)"

MONDAY_TO_FRIDAY: Final = frozenset(range(5))
EVERY_DAY: Final = frozenset(range(7))


@dataclass(frozen=True)
class Schedule:
    weekdays: frozenset[int]  # 0 = Monday ... 6 = Sunday
    opens: time  # local wall time
    closes: time
    tz: ZoneInfo = NEW_YORK
    closed_on_holidays: bool = True
    # Also close on the weekday a weekend holiday is observed on (Monday-Friday desks).
    observed_days: bool = True

    def __post_init__(self) -> None:
        # A set or list would make the schedule unhashable, and windows are cached per schedule.
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        if not self.weekdays or not self.weekdays <= EVERY_DAY:
            raise ValueError("weekdays must be a non-empty set of 0 (Monday) .. 6 (Sunday)")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are local wall times without tzinfo")
        if self.opens.fold or self.closes.fold:
            # One rule for repeated wall times (the first reading) instead of a per-schedule one.
            raise ValueError("opens and closes must have fold=0")
        # Windows stay inside one local day; an overnight desk would need two windows a day.
        if not self.opens < self.closes:
            raise ValueError("opens must be before closes on the same day")


PLAN_SCHEDULES: Final[dict[str, Schedule]] = {
    "free": Schedule(MONDAY_TO_FRIDAY, time(9), time(17)),
    "starter": Schedule(MONDAY_TO_FRIDAY, time(9), time(17)),
    "growth": Schedule(MONDAY_TO_FRIDAY, time(9), time(19)),
    "pro": Schedule(EVERY_DAY, time(8), time(22), observed_days=False),
}

# (target hours, breach hours) of the first response, in business hours of the plan's schedule.
PLAN_TARGETS: Final[dict[str, tuple[int, int]]] = {
    "free": (48, 72),
    "starter": (24, 48),
    "growth": (12, 24),
    "pro": (4, 8),
}


@lru_cache(maxsize=64)
def _closed_days(year: int) -> dict[date, str]:
    # year + 1 as well: an observed day can land in the year before its holiday (New Year's
    # Day on a Saturday is observed on December 31).
    # Imported here: the package loads its whole country catalogue (~50 ms), which every
    # Django process would otherwise pay at start-up for a calendar only SLA code reads.
    import holidays

    calendar = holidays.US(years=(year, year + 1), language="en_US")
    closed: dict[date, str] = {}
    seen: set[str] = set()
    for day in sorted(calendar):
        if day.year != year:
            continue
        for name in calendar.get_list(day):
            base = name.removesuffix(_OBSERVED_SUFFIX)
            if base in CLOSED_HOLIDAYS:
                closed[day] = name
                if name == base:
                    seen.add(base)
    missing = CLOSED_HOLIDAYS - seen
    if missing:
        raise RuntimeError(f"holidays.US has no {sorted(missing)} in {year}; check CLOSED_HOLIDAYS")
    return closed


def closed_days(year: int) -> dict[date, str]:
    """Dates in ``year`` on which the desk is closed for a holiday -> the holiday's name.

    Both the actual date and the observed date (``"... (observed)"``) are listed.
    """
    return dict(_closed_days(year))


def _is_closed_holiday(day: date, *, observed: bool = True) -> bool:
    name = _closed_days(day.year).get(day)
    if name is None:
        return False
    return observed or not name.endswith(_OBSERVED_SUFFIX)


def _first_instant_at(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The first UTC instant at which the clock in ``tz`` on ``day`` reads ``wall`` or later."""
    naive = datetime.combine(day, wall)
    # fold=0 is the earlier reading of an ambiguous time, which is the rule we want.
    candidate = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if candidate.astimezone(tz).replace(tzinfo=None) == naive:
        return candidate
    # Nonexistent: zoneinfo maps the wall time with the offset before the gap (fold=0, after
    # the transition) or after it (fold=1, before the transition). The transition lies between;
    # bisect to the second (clock changes happen on whole seconds).
    other = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(candidate, other), max(candidate, other)
    base = low.replace(microsecond=0)
    before = base.astimezone(tz).utcoffset()
    lo, hi = 0, math.ceil((high - base).total_seconds())
    while hi - lo > 1:  # invariant: offset at base+lo is the old one, at base+hi the new one
        middle = (lo + hi) // 2
        if (base + timedelta(seconds=middle)).astimezone(tz).utcoffset() == before:
            lo = middle
        else:
            hi = middle
    return base + timedelta(seconds=hi)


@lru_cache(maxsize=4096)
def open_window(day: date, schedule: Schedule) -> tuple[datetime, datetime] | None:
    """The UTC ``[opens, closes)`` window of local date ``day``, or None when closed all day."""
    if day.weekday() not in schedule.weekdays:
        return None
    if schedule.closed_on_holidays and _is_closed_holiday(day, observed=schedule.observed_days):
        return None
    opens = _first_instant_at(day, schedule.opens, schedule.tz)
    closes = _first_instant_at(day, schedule.closes, schedule.tz)
    if closes <= opens:  # both boundaries inside one DST gap
        return None
    return opens, closes


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _local_date(instant: datetime, schedule: Schedule) -> date:
    return instant.astimezone(schedule.tz).date()


def is_open(at: datetime, schedule: Schedule) -> bool:
    """Whether the desk is open at instant ``at`` (aware)."""
    instant = _utc(at, "at")
    window = open_window(_local_date(instant, schedule), schedule)
    return window is not None and window[0] <= instant < window[1]


def add_business_time(start: datetime, amount: timedelta, schedule: Schedule) -> datetime:
    """The earliest instant (aware, UTC) by which ``amount`` of business time has passed since
    ``start``. A zero amount returns ``start`` itself, even outside business hours; an amount
    that ends exactly at closing time returns the closing instant, not the next opening."""
    cursor = _utc(start, "start")
    if amount < timedelta(0):
        raise ValueError("amount must not be negative")
    remaining = amount
    if not remaining:
        return cursor
    day = _local_date(cursor, schedule)
    while True:
        window = open_window(day, schedule)
        if window is not None and window[1] > cursor:
            begin = max(cursor, window[0])
            available = window[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = window[1]
        # Dates are plain calendar values: stepping them by a day is exact.
        day += timedelta(days=1)


def business_time_between(start: datetime, end: datetime, schedule: Schedule) -> timedelta:
    """Business time inside ``[start, end)``; zero when ``end <= start``."""
    begin = _utc(start, "start")
    finish = _utc(end, "end")
    total = timedelta(0)
    if finish <= begin:
        return total
    day = _local_date(begin, schedule)
    last = _local_date(finish, schedule)
    while day <= last:
        window = open_window(day, schedule)
        if window is not None:
            overlap = min(finish, window[1]) - max(begin, window[0])
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total
