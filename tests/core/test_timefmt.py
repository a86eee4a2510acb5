"""Payload timestamps: UTC, microseconds, Z (seed 002)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopkeep.core.timefmt import iso, iso_date
from tests.payload_shape import TIMESTAMP


def test_iso_matches_the_seed_format():
    assert iso(datetime(2025, 1, 20, 14, 30, tzinfo=UTC)) == "2025-01-20T14:30:00.000000Z"


def test_iso_keeps_microseconds():
    value = datetime(2025, 1, 20, 14, 30, 0, 123456, tzinfo=UTC)
    assert iso(value) == "2025-01-20T14:30:00.123456Z"


def test_iso_converts_other_zones_to_utc():
    berlin = datetime(2025, 1, 20, 15, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert iso(berlin) == "2025-01-20T14:30:00.000000Z"
    offset = datetime(2025, 1, 20, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert iso(offset) == "2025-01-20T14:30:00.000000Z"


def test_iso_of_none_is_none():
    assert iso(None) is None
    assert iso_date(None) is None


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        iso(datetime(2025, 1, 20, 14, 30))


def test_iso_date_is_the_utc_day():
    assert iso_date(date(2025, 2, 20)) == "2025-02-20"
    late_in_new_york = datetime(2025, 2, 19, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert iso_date(late_in_new_york) == "2025-02-20"


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1),
                    timezones=st.just(UTC)))
def test_every_aware_datetime_formats_like_the_seed_and_parses_back(value):
    text = iso(value)
    assert TIMESTAMP.match(text)
    assert datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == value
