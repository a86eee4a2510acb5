"""When to try a failed delivery again.

After the first attempt fails, retries follow at once, then after 5 s, 5 min, 30 min, 2 h,
5 h, 10 h and 10 h (about 27.5 hours in all), each delay moved by up to 20% either way so
endpoints that failed together do not all come back at the same second. A ``Retry-After``
(or Discord's ``retry_after``) pushes the next attempt later, never earlier, and is capped.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
JITTER = 0.2
MAX_RETRY_AFTER = timedelta(hours=10)
FAILING_DISABLE_AFTER = timedelta(days=5)


def retry_delay(step: int, rng: random.Random) -> timedelta | None:
    """The wait before retry number ``step`` (0-based), jittered; None when none are left."""
    if step >= len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[step]
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return None
    return min(timedelta(seconds=seconds), MAX_RETRY_AFTER)


def next_attempt_at(*, step: int, now: datetime, rng: random.Random,
                    retry_after: timedelta | None = None) -> datetime | None:
    delay = retry_delay(step, rng)
    if delay is None:
        return None
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + delay
