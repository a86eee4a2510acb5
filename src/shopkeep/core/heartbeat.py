"""Heartbeats of background processes (``ProcessBeat``), read by the status page and
``/metrics``."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.utils import timezone

from shopkeep.core.models import ProcessBeat

logger = logging.getLogger("shopkeep.heartbeat")

EVERY = 15.0  # seconds between two writes of one process
# A process whose last beat is older than this is counted as gone (four missed beats, so a
# long task or a slow database does not flap the status page).
STALE = timedelta(seconds=120)
KEEP = timedelta(days=1)


def instance_name(kind: str) -> str:
    return f"{kind}@{socket.gethostname()[:60]}:{os.getpid()}"


class Beater:
    """Call ``beat()`` from a process's loop as often as it likes: it writes at most every
    ``EVERY`` seconds, and a failed write (the database is away) never stops the loop."""

    def __init__(self, kind: str, instance: str | None = None) -> None:
        self.kind = kind
        self.instance = instance or instance_name(kind)
        self._last = 0.0

    def due(self) -> bool:
        return time.monotonic() - self._last >= EVERY

    def beat(self, *, force: bool = False) -> None:
        if not force and not self.due():
            return
        self._last = time.monotonic()
        try:
            stamp = timezone.now()
            if not ProcessBeat.objects.filter(instance=self.instance).update(beat_at=stamp):
                ProcessBeat.objects.update_or_create(
                    instance=self.instance,
                    defaults={"kind": self.kind, "beat_at": stamp, "started_at": stamp})
        except DatabaseError:
            logger.warning("%s: heartbeat not written", self.instance, exc_info=True)

    def stop(self) -> None:
        """A clean exit removes the row, so a stopped process is not mistaken for a hung one."""
        try:
            ProcessBeat.objects.filter(instance=self.instance).delete()
        except DatabaseError:
            logger.warning("%s: heartbeat not removed", self.instance, exc_info=True)


def live(*, kind: str, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return ProcessBeat.objects.filter(kind=kind, beat_at__gte=now - STALE).count()


def last_beat(*, kind: str) -> datetime | None:
    row = ProcessBeat.objects.filter(kind=kind).order_by("-beat_at").first()
    return row.beat_at if row else None


def prune(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return ProcessBeat.objects.filter(beat_at__lt=now - KEEP).delete()[0]
