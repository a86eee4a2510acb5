"""The retry arithmetic on its own: jitter bounds, the end of the schedule, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from shopkeep.webhooks.schedule import (
    MAX_RETRY_AFTER,
    RETRY_DELAYS,
    next_attempt_at,
    parse_retry_after,
    retry_delay,
)

NOW = datetime(2025, 1, 20, 14, 30, tzinfo=UTC)


def test_the_schedule_is_the_issues_list():
    issue = [timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
             timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]
    assert list(RETRY_DELAYS) == issue


@pytest.mark.parametrize("step", range(len(RETRY_DELAYS)))
def test_every_delay_stays_within_20_percent(step):
    rng = random.Random(step)
    delays = [retry_delay(step, rng) for _ in range(500)]
    base = RETRY_DELAYS[step]
    assert all(base * 0.8 <= d <= base * 1.2 for d in delays)
    if base:
        assert min(delays) < base * 0.9 and max(delays) > base * 1.1  # really spread


def test_no_retry_after_the_last_step():
    assert retry_delay(len(RETRY_DELAYS), random.Random(1)) is None
    assert next_attempt_at(step=len(RETRY_DELAYS), now=NOW, rng=random.Random(1)) is None


@pytest.mark.parametrize(("header", "expected"), [
    ("120", timedelta(seconds=120)),
    ("0", timedelta(0)),
    ("1.5", timedelta(seconds=1.5)),
    ("Mon, 20 Jan 2025 14:35:00 GMT", timedelta(minutes=5)),
    ("99999999", MAX_RETRY_AFTER),
    ("-5", None), ("soon", None), ("", None), (None, None), ("nan", None),
    ("Mon, 20 Jan 2025 14:00:00 GMT", None),  # already past
])
def test_retry_after_is_read_in_both_forms_and_capped(header, expected):
    assert parse_retry_after(header, now=NOW) == expected


def test_retry_after_never_brings_an_attempt_forward():
    rng = random.Random(3)
    later = next_attempt_at(step=3, now=NOW, rng=rng, retry_after=timedelta(seconds=1))
    assert later - NOW >= RETRY_DELAYS[3] * 0.8
