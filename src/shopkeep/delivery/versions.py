"""The newest agent version, told to agents in the heartbeat answer and compared on the
dashboard. The platform ships with the agent of the same repository, so the installed
``shopkeep-agent`` distribution is the newest one; ``SHOPKEEP_AGENT_LATEST_VERSION``
overrides it for operators who install the platform without the agent."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata

from django.conf import settings

_NUMBERS = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@lru_cache(maxsize=1)
def _installed() -> str:
    # The package's own attribute first: an editable install's metadata keeps the version
    # it had when it was installed.
    try:
        from shopkeep_agent import __version__

        return __version__
    except ImportError:
        pass
    try:
        return metadata.version("shopkeep-agent")
    except metadata.PackageNotFoundError:
        return ""


def latest_agent_version() -> str:
    return getattr(settings, "SHOPKEEP_AGENT_LATEST_VERSION", "") or _installed()


def parse(version: str) -> tuple[int, int, int] | None:
    match = _NUMBERS.match(version or "")
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def is_older(version: str, latest: str | None = None) -> bool:
    """True when ``version`` is a release before ``latest``; unparseable versions (a
    development build) are not flagged."""
    mine, newest = parse(version), parse(latest if latest is not None else
                                          latest_agent_version())
    return mine is not None and newest is not None and mine < newest
