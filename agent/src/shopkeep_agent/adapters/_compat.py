"""Names that differ between Python 3.9 (the agent's floor) and 3.11 (this repo's linter
target): kept here so the rest of the code reads the same on both."""

from __future__ import annotations

import asyncio
import datetime as dt

# asyncio.TimeoutError became an alias of the builtin only in 3.11; before, asyncio.wait_for
# raises asyncio's own class, which `except TimeoutError` would miss.
TIMEOUTS = (asyncio.TimeoutError, TimeoutError)

# datetime.UTC exists only from 3.11.
UTC = dt.timezone(dt.timedelta(0))
