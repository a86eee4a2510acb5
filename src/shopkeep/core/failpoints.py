"""Named crash points for the crash-safety tests (``tests/e2e/test_jobs_crash.py``).

``SHOPKEEP_FAILPOINTS`` lists ``name=action`` pairs, comma-separated:

- ``kill`` (or ``kill@N``): the process SIGKILLs itself on the Nth time it reaches the point
  (default the first), exactly as ``kill -9`` from outside would: no ``finally``, no commit;
- ``hang``: the process stops at the point until something kills it (the test then sends
  SIGKILL from outside, at a moment it chose);
- ``sleep:SECONDS``: a slow step, to widen a race.

Production mode ignores the variable (and says so once), so a stray setting cannot crash a
live worker.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass

logger = logging.getLogger("shopkeep.failpoints")
ENV = "SHOPKEEP_FAILPOINTS"


@dataclass
class _Point:
    action: str
    arg: float
    hits: int = 0


_lock = threading.Lock()
_points: dict[str, _Point] | None = None


def _parse(text: str) -> dict[str, _Point]:
    points: dict[str, _Point] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, spec = item.partition("=")
        action, _, arg = spec.replace("@", ":").partition(":")
        if action not in ("kill", "hang", "sleep") or not name:
            raise ValueError(f"{ENV}: cannot read {item!r}")
        default = 1.0 if action == "kill" else 0.0
        points[name.strip()] = _Point(action=action, arg=float(arg) if arg else default)
    return points


def _load() -> dict[str, _Point]:
    global _points
    if _points is None:
        from django.conf import settings

        text = os.environ.get(ENV, "")
        if text and getattr(settings, "PRODUCTION", False):
            logger.warning("%s is ignored in production mode", ENV)
            text = ""
        _points = _parse(text)
    return _points


def failpoint(name: str) -> None:
    point = _load().get(name)
    if point is None:
        return
    with _lock:
        point.hits += 1
        hits = point.hits
    if point.action == "kill" and hits == int(point.arg):
        logger.warning("failpoint %s: SIGKILL", name)
        os.kill(os.getpid(), signal.SIGKILL)
    elif point.action == "hang":
        logger.warning("failpoint %s: hanging until killed (pid %d)", name, os.getpid())
        while True:
            time.sleep(3600)
    elif point.action == "sleep":
        time.sleep(point.arg)


def reset() -> None:
    """Re-read the environment (tests that change it in-process)."""
    global _points
    _points = None
