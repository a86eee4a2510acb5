"""Billing period arithmetic shared by gateways and the subscriptions app."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta


def add_interval(start: datetime, interval: str, count: int = 1) -> datetime:
    """Next billing instant; a month after Jan 31 is the last day of February."""
    if interval == "week":
        return start + timedelta(weeks=count)
    months = {"month": 1, "year": 12}[interval] * count
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
