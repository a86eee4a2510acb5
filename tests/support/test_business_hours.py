"""Business-hours calendar for SLA clocks: issue 7's cases, holidays, pauses, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopkeep.support.business_hours import (
    CLOSED_HOLIDAYS,
    EVERY_DAY,
    MONDAY_TO_FRIDAY,
    NEW_YORK,
    PLAN_SCHEDULES,
    PLAN_TARGETS,
    Schedule,
    add_business_time,
    business_time_between,
    closed_days,
    is_open,
    open_window,
)

FREE = PLAN_SCHEDULES["free"]
GROWTH = PLAN_SCHEDULES["growth"]
PRO = PLAN_SCHEDULES["pro"]
EDT = timedelta(hours=-4)
EST = timedelta(hours=-5)
H = timedelta(hours=1)


def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK, fold=fold)


def local(value: datetime) -> datetime:
    return value.astimezone(NEW_YORK)


# --- the cases issue 7 names ------------------------------------------------------------------


def test_friday_afternoon_rolls_over_the_dst_weekend_to_monday_noon_edt() -> None:
    start = ny(2026, 3, 6, 16)
    assert start.utcoffset() == EST

    due = add_business_time(start, 4 * H, FREE)

    assert due.tzinfo is UTC
    assert local(due) == ny(2026, 3, 9, 12)
    assert local(due).utcoffset() == EDT
    assert due == datetime(2026, 3, 9, 16, tzinfo=UTC)
    assert business_time_between(start, due, FREE) == 4 * H


def test_thanksgiving_is_closed_so_wednesday_afternoon_lands_on_friday_morning() -> None:
    start = ny(2026, 11, 25, 16)

    due = add_business_time(start, 3 * H, FREE)

    assert local(due) == ny(2026, 11, 27, 11)
    assert due == datetime(2026, 11, 27, 16, tzinfo=UTC)
    assert business_time_between(start, due, FREE) == 3 * H


def test_pro_on_the_fall_back_sunday_evening_lands_on_monday_0830_est() -> None:
    start = ny(2026, 11, 1, 21, 30)
    assert start.utcoffset() == EST

    due = add_business_time(start, 1 * H, PRO)

    assert local(due) == ny(2026, 11, 2, 8, 30)
    assert local(due).utcoffset() == EST
    assert due == datetime(2026, 11, 2, 13, 30, tzinfo=UTC)


# --- plans ------------------------------------------------------------------------------------


def test_plan_tables_match_the_seed() -> None:
    assert PLAN_TARGETS == {"free": (48, 72), "starter": (24, 48), "growth": (12, 24),
                            "pro": (4, 8)}
    assert set(PLAN_SCHEDULES) == set(PLAN_TARGETS)
    for plan in ("free", "starter"):
        assert PLAN_SCHEDULES[plan] == Schedule(MONDAY_TO_FRIDAY, time(9), time(17))
    assert PLAN_SCHEDULES["growth"] == Schedule(MONDAY_TO_FRIDAY, time(9), time(19))
    assert PLAN_SCHEDULES["pro"] == Schedule(EVERY_DAY, time(8), time(22), observed_days=False)
    assert all(s.tz is NEW_YORK for s in PLAN_SCHEDULES.values())
    assert str(NEW_YORK) == "America/New_York"


# --- closed days ------------------------------------------------------------------------------


def test_closed_days_2026_are_the_six_major_holidays_with_july_4_observed_on_friday() -> None:
    assert closed_days(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 7, 3): "Independence Day (observed)",
        date(2026, 7, 4): "Independence Day",
        date(2026, 9, 7): "Labor Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 12, 25): "Christmas Day",
    }


def test_new_year_on_saturday_is_observed_on_december_31_of_the_year_before() -> None:
    assert date(2022, 1, 1).weekday() == 5
    assert closed_days(2021)[date(2021, 12, 31)] == "New Year's Day (observed)"
    assert date(2021, 12, 31) not in closed_days(2022)
    assert closed_days(2022)[date(2022, 1, 1)] == "New Year's Day"
    # Thursday 16:00 + 2 h: Friday Dec 31 is closed, so the clock resumes on Monday Jan 3.
    due = add_business_time(ny(2021, 12, 30, 16), 2 * H, FREE)
    assert local(due) == ny(2022, 1, 3, 10)
    assert not is_open(ny(2021, 12, 31, 12), FREE)


def test_sunday_holiday_is_observed_on_monday() -> None:
    assert date(2022, 12, 25).weekday() == 6
    assert closed_days(2022)[date(2022, 12, 26)] == "Christmas Day (observed)"
    assert closed_days(2027)[date(2027, 7, 5)] == "Independence Day (observed)"
    assert not is_open(ny(2022, 12, 26, 10), FREE)
    assert is_open(ny(2022, 12, 27, 10), FREE)


def test_other_federal_holidays_and_the_day_after_thanksgiving_are_working_days() -> None:
    for day in (date(2026, 1, 19), date(2026, 2, 16), date(2026, 6, 19), date(2026, 10, 12),
                date(2026, 11, 11), date(2026, 11, 27)):
        assert day not in closed_days(2026)
        assert is_open(ny(day.year, day.month, day.day, 10), FREE), day


@pytest.mark.parametrize("year", range(2020, 2041))
def test_every_year_closes_each_holiday_and_its_weekday_substitute(year: int) -> None:
    days = closed_days(year)
    actual = {name: day for day, name in days.items() if not name.endswith(" (observed)")}
    assert set(actual) == CLOSED_HOLIDAYS
    expected_observed = {}
    for name, day in actual.items():
        if day.weekday() == 5 and day.month != 1:
            expected_observed[day - timedelta(days=1)] = f"{name} (observed)"
        if day.weekday() == 6:
            expected_observed[day + timedelta(days=1)] = f"{name} (observed)"
    # New Year's Day of the next year on a Saturday is observed on December 31 of this one.
    if date(year + 1, 1, 1).weekday() == 5:
        expected_observed[date(year, 12, 31)] = "New Year's Day (observed)"
    observed = {day: name for day, name in days.items() if name.endswith(" (observed)")}
    assert observed == expected_observed
    assert all(day.weekday() in (0, 4) for day in observed)


def test_closed_days_returns_a_copy() -> None:
    days = closed_days(2026)
    days.clear()
    assert date(2026, 12, 25) in closed_days(2026)


def test_pro_observes_the_holidays_on_their_actual_dates() -> None:
    """Seed 000: "We observe major US holidays", for every plan's business hours."""
    assert not is_open(ny(2026, 12, 25, 10), PRO)
    assert not is_open(ny(2027, 1, 1, 10), PRO)
    assert not is_open(ny(2026, 11, 26, 10), PRO)  # Thanksgiving
    assert not is_open(ny(2026, 7, 4, 10), PRO)  # a Saturday: Pro works Saturdays
    assert is_open(ny(2026, 7, 3, 10), PRO)  # its observed Friday is a working day for Pro
    assert is_open(ny(2026, 11, 27, 10), PRO)
    assert not is_open(ny(2026, 12, 25, 10), FREE)
    assert not is_open(ny(2026, 7, 3, 10), FREE)
    # A Pro ticket opened on Christmas Eve at 20:00 (4 h target) is due on the 26th at 10:00.
    assert local(add_business_time(ny(2026, 12, 24, 20), 4 * H, PRO)) == ny(2026, 12, 26, 10)


def test_every_plan_is_closed_on_christmas() -> None:
    for plan, schedule in PLAN_SCHEDULES.items():
        assert not is_open(ny(2026, 12, 25, 12), schedule), plan


def test_a_seven_day_desk_with_observed_days_closes_both_dates() -> None:

    closing = Schedule(EVERY_DAY, time(8), time(22), closed_on_holidays=True)
    assert open_window(date(2026, 7, 3), closing) is None
    assert open_window(date(2026, 7, 4), closing) is None
    assert open_window(date(2026, 7, 5), closing) is not None
    # Thursday 21:00 + 2 h: one hour on Thursday, then Friday and Saturday are closed.
    due = add_business_time(ny(2026, 7, 2, 21), 2 * H, closing)
    assert local(due) == ny(2026, 7, 5, 9)


# --- where the clock starts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        (ny(2026, 4, 6, 7), 1 * H, ny(2026, 4, 6, 10)),  # before the window: counts from 9:00
        (ny(2026, 4, 6, 9), 1 * H, ny(2026, 4, 6, 10)),  # at opening
        (ny(2026, 4, 6, 12, 15), 2 * H, ny(2026, 4, 6, 14, 15)),  # inside
        (ny(2026, 4, 6, 16), 3 * H, ny(2026, 4, 7, 11)),  # inside, spills to the next day
        (ny(2026, 4, 6, 17), 1 * H, ny(2026, 4, 7, 10)),  # at closing: closed
        (ny(2026, 4, 6, 18), 1 * H, ny(2026, 4, 7, 10)),  # after the window
        (ny(2026, 4, 11, 12), 1 * H, ny(2026, 4, 13, 10)),  # Saturday
        (ny(2026, 5, 25, 10), 1 * H, ny(2026, 5, 26, 10)),  # Memorial Day
        (ny(2026, 4, 6, 9), 8 * H, ny(2026, 4, 6, 17)),  # fills the day: closing, not next 9:00
        (ny(2026, 4, 6, 10), timedelta(minutes=1, seconds=30, microseconds=7),
         ny(2026, 4, 6, 10, 1, 30) + timedelta(microseconds=7)),
    ],
)
def test_add_business_time_from_each_kind_of_start(
    start: datetime, amount: timedelta, expected: datetime
) -> None:
    due = add_business_time(start, amount, FREE)
    assert due == expected
    assert due.tzinfo is UTC
    assert business_time_between(start, due, FREE) == amount


def test_zero_amount_returns_the_start_even_when_closed() -> None:
    saturday = ny(2026, 4, 11, 12)
    assert add_business_time(saturday, timedelta(0), FREE) == saturday
    assert add_business_time(saturday, timedelta(0), FREE).tzinfo is UTC
    assert add_business_time(ny(2026, 4, 6, 10), timedelta(0), FREE) == ny(2026, 4, 6, 10)


def test_amounts_spanning_weeks_and_holidays() -> None:
    # Free breach: 72 h = 9 working days of 8 h.
    assert local(add_business_time(ny(2026, 1, 5, 9), 72 * H, FREE)) == ny(2026, 1, 15, 17)
    # Starter breach over Christmas: Mon-Thu (32 h), Fri 25 closed, Mon-Tue 28-29.
    starter = PLAN_SCHEDULES["starter"]
    assert local(add_business_time(ny(2026, 12, 21, 9), 48 * H, starter)) == ny(2026, 12, 29, 17)
    # Growth breach over Thanksgiving: Wed 7 h, Thu closed, Fri 10 h, Mon 7 h.
    assert local(add_business_time(ny(2026, 11, 25, 12), 24 * H, GROWTH)) == ny(2026, 11, 30, 16)
    # 400 business hours = 50 working days: ten weeks, plus two days for the weekday holidays
    # inside (Memorial Day, Independence Day observed on Friday July 3).
    due = add_business_time(ny(2026, 5, 4, 9), 400 * H, FREE)
    assert local(due) == ny(2026, 7, 14, 17)
    assert business_time_between(ny(2026, 5, 4, 9), due, FREE) == 400 * H


def test_start_in_another_timezone_is_the_same_instant() -> None:
    start_utc = datetime(2026, 3, 6, 21, tzinfo=UTC)  # Fri 16:00 EST
    start_tokyo = start_utc.astimezone(ZoneInfo("Asia/Tokyo"))
    assert add_business_time(start_utc, 4 * H, FREE) == add_business_time(start_tokyo, 4 * H, FREE)
    assert local(add_business_time(start_tokyo, 4 * H, FREE)) == ny(2026, 3, 9, 12)


# --- is_open ----------------------------------------------------------------------------------


def test_is_open_windows_are_half_open() -> None:
    assert not is_open(ny(2026, 4, 6, 8, 59, 59), FREE)
    assert is_open(ny(2026, 4, 6, 9), FREE)
    assert is_open(ny(2026, 4, 6, 16, 59, 59), FREE)
    assert not is_open(ny(2026, 4, 6, 17), FREE)
    assert is_open(ny(2026, 4, 6, 18, 30), GROWTH)
    assert not is_open(ny(2026, 4, 11, 12), GROWTH)
    assert is_open(ny(2026, 4, 11, 12), PRO)
    assert is_open(datetime(2026, 4, 6, 13, tzinfo=UTC), FREE)  # 9:00 EDT
    assert not is_open(datetime(2026, 1, 5, 13, tzinfo=UTC), FREE)  # 8:00 EST


# --- pauses: business time between two instants ----------------------------------------------


def test_business_time_between_skips_nights_weekends_and_holidays() -> None:
    assert business_time_between(ny(2026, 3, 6, 16), ny(2026, 3, 9, 10), FREE) == 2 * H
    assert business_time_between(ny(2026, 11, 25, 16), ny(2026, 11, 27, 11), FREE) == 3 * H
    assert business_time_between(ny(2026, 4, 6, 0), ny(2026, 4, 13, 0), FREE) == 40 * H
    assert business_time_between(ny(2026, 11, 23, 0), ny(2026, 11, 30, 0), FREE) == 32 * H
    assert business_time_between(ny(2026, 11, 23, 0), ny(2026, 11, 30, 0), GROWTH) == 40 * H
    # Two weeks of 14 h days less Christmas Day and New Year's Day.
    assert business_time_between(ny(2026, 12, 21, 0), ny(2027, 1, 4, 0), PRO) == 12 * 14 * H
    assert business_time_between(ny(2026, 4, 6, 18), ny(2026, 4, 7, 8), FREE) == timedelta(0)


def test_business_time_between_is_zero_when_end_is_not_after_start() -> None:
    assert business_time_between(ny(2026, 4, 6, 12), ny(2026, 4, 6, 12), FREE) == timedelta(0)
    assert business_time_between(ny(2026, 4, 6, 12), ny(2026, 4, 6, 10), FREE) == timedelta(0)


def test_a_paused_clock_is_the_sum_of_its_running_spans() -> None:
    # Open Mon 10:00, waiting for the store owner Mon 12:00 - Wed 15:00, running again until
    # Thu 11:00: 2 h + (Wed 2 h + Thu 2 h) = 6 h, although 8+8+2 h of the span were business.
    spans = [(ny(2026, 4, 6, 10), ny(2026, 4, 6, 12)), (ny(2026, 4, 8, 15), ny(2026, 4, 9, 11))]
    running = sum((business_time_between(a, b, FREE) for a, b in spans), timedelta(0))
    assert running == 6 * H
    assert business_time_between(spans[0][0], spans[1][1], FREE) == 25 * H
    # The due time after the pause: the 8 h target minus what already ran, from the resume.
    due = add_business_time(spans[1][0], 8 * H - business_time_between(*spans[0], FREE), FREE)
    assert local(due) == ny(2026, 4, 9, 13)


# --- DST --------------------------------------------------------------------------------------


def test_pro_window_is_fourteen_real_hours_on_both_dst_sundays() -> None:
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        opens, closes = open_window(day, PRO)
        assert closes - opens == 14 * H
        assert business_time_between(ny(day.year, day.month, day.day),
                                     ny(day.year, day.month, day.day, 23, 59), PRO) == 14 * H
    assert open_window(date(2026, 11, 1), PRO) == (
        datetime(2026, 11, 1, 13, tzinfo=UTC), datetime(2026, 11, 2, 3, tzinfo=UTC))
    assert open_window(date(2026, 3, 8), PRO) == (
        datetime(2026, 3, 8, 12, tzinfo=UTC), datetime(2026, 3, 9, 2, tzinfo=UTC))


def test_the_fall_back_night_is_an_hour_longer_and_all_closed() -> None:
    closed_at = ny(2026, 10, 31, 22)  # EDT
    opens_at = ny(2026, 11, 1, 8)  # EST
    assert opens_at - closed_at == 10 * H  # same-zone subtraction is wall time, hence UTC:
    assert opens_at.astimezone(UTC) - closed_at.astimezone(UTC) == 11 * H
    assert business_time_between(closed_at, opens_at, PRO) == timedelta(0)
    assert local(add_business_time(ny(2026, 10, 31, 21), 2 * H, PRO)) == ny(2026, 11, 1, 9)
    # And the spring-forward night is an hour shorter.
    spring_night = ny(2026, 3, 8, 8).astimezone(UTC) - ny(2026, 3, 7, 22).astimezone(UTC)
    assert spring_night == 9 * H


def test_a_window_containing_the_transition_has_13_or_11_real_hours() -> None:
    morning = Schedule(EVERY_DAY, time(0), time(12))
    fall = open_window(date(2026, 11, 1), morning)
    spring = open_window(date(2026, 3, 8), morning)
    assert fall[1] - fall[0] == 13 * H
    assert spring[1] - spring[0] == 11 * H
    assert local(add_business_time(ny(2026, 11, 1, 0), 12 * H, morning)) == ny(2026, 11, 1, 11)
    assert local(add_business_time(ny(2026, 3, 8, 0), 12 * H, morning)) == ny(2026, 3, 9, 1)


def test_a_boundary_in_the_spring_gap_is_the_transition_instant() -> None:
    # 02:30 does not exist on 2026-03-08: the window opens when the clock jumps to 03:00 EDT.
    schedule = Schedule(EVERY_DAY, time(2, 30), time(12))
    opens, _ = open_window(date(2026, 3, 8), schedule)
    assert opens == datetime(2026, 3, 8, 7, tzinfo=UTC)
    assert local(opens) == ny(2026, 3, 8, 3)
    assert not is_open(ny(2026, 3, 8, 1, 59, 59), schedule)
    assert is_open(ny(2026, 3, 8, 3), schedule)
    # Both boundaries inside the gap: no window that day, the others are unaffected.
    inside_gap = Schedule(EVERY_DAY, time(2, 10), time(2, 50))
    assert open_window(date(2026, 3, 8), inside_gap) is None
    assert local(add_business_time(ny(2026, 3, 7, 2, 40), 20 * timedelta(minutes=1),
                                   inside_gap)) == ny(2026, 3, 9, 2, 20)


def test_a_boundary_in_the_repeated_fall_hour_is_its_first_reading() -> None:
    schedule = Schedule(EVERY_DAY, time(1), time(1, 30))
    opens, closes = open_window(date(2026, 11, 1), schedule)
    assert opens == datetime(2026, 11, 1, 5, tzinfo=UTC)  # 01:00 EDT
    assert closes == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST
    assert is_open(ny(2026, 11, 1, 1, 15, fold=0), schedule)
    assert not is_open(ny(2026, 11, 1, 1, 15, fold=1), schedule)  # the EST repeat


def test_a_half_hour_gap_in_another_zone_is_found_to_the_second() -> None:
    # Lord Howe Island springs forward 30 minutes, 02:00 -> 02:30, on 2026-10-04.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    schedule = Schedule(EVERY_DAY, time(2, 15), time(10), tz=lord_howe)
    opens, closes = open_window(date(2026, 10, 4), schedule)
    assert opens.astimezone(lord_howe).replace(tzinfo=None) == datetime(2026, 10, 4, 2, 30)
    assert closes - opens == timedelta(hours=7, minutes=30)


# --- hostile input ----------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 4, 6, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(naive, FREE)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(naive, H, FREE)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(naive, ny(2026, 4, 7), FREE)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(ny(2026, 4, 5), naive, FREE)


def test_negative_amounts_and_impossible_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(ny(2026, 4, 6, 10), -H, FREE)
    with pytest.raises(ValueError, match="weekdays"):
        Schedule(frozenset(), time(9), time(17))
    with pytest.raises(ValueError, match="weekdays"):
        Schedule(frozenset({7}), time(9), time(17))
    with pytest.raises(ValueError, match="before"):
        Schedule(MONDAY_TO_FRIDAY, time(17), time(9))
    with pytest.raises(ValueError, match="before"):
        Schedule(MONDAY_TO_FRIDAY, time(9), time(9))
    with pytest.raises(ValueError, match="without tzinfo"):
        Schedule(MONDAY_TO_FRIDAY, time(9, tzinfo=UTC), time(17))
    with pytest.raises(ValueError, match="fold=0"):
        Schedule(EVERY_DAY, time(1, 30, fold=1), time(17))


def test_weekdays_given_as_a_set_or_list_become_a_frozenset() -> None:
    schedule = Schedule([0, 1, 2, 3, 4], time(9), time(17))
    assert schedule.weekdays == MONDAY_TO_FRIDAY
    assert schedule == FREE
    assert local(add_business_time(ny(2026, 4, 10, 16), 2 * H, schedule)) == ny(2026, 4, 13, 10)


# --- properties -------------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))
local_instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                              timezones=st.just(NEW_YORK), allow_imaginary=False)
amounts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=300))
plans = st.sampled_from(sorted(PLAN_SCHEDULES))


@settings(max_examples=300, deadline=None)
@given(start=instants | local_instants, amount=amounts, plan=plans)
def test_business_time_between_inverts_add_business_time(
    start: datetime, amount: timedelta, plan: str
) -> None:
    schedule = PLAN_SCHEDULES[plan]
    due = add_business_time(start, amount, schedule)
    assert due >= start
    assert business_time_between(start, due, schedule) == amount
    if amount:
        # Earliest: a microsecond sooner the amount has not yet passed, and the due instant is
        # inside a window or at its closing.
        assert business_time_between(start, due - timedelta(microseconds=1), schedule) < amount
        assert is_open(due - timedelta(microseconds=1), schedule)


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants, c=instants, plan=plans)
def test_business_time_adds_up_over_consecutive_spans(
    a: datetime, b: datetime, c: datetime, plan: str
) -> None:
    a, b, c = sorted((a, b, c))
    schedule = PLAN_SCHEDULES[plan]
    whole = business_time_between(a, c, schedule)
    assert whole == business_time_between(a, b, schedule) + business_time_between(b, c, schedule)
    assert timedelta(0) <= whole <= c - a
