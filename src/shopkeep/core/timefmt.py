"""Timestamps in payloads: UTC with microseconds and a ``Z`` (``2025-01-20T14:30:00.000000Z``),
dates as ``2025-02-20`` (seed 002)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime in a payload")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_date(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()
