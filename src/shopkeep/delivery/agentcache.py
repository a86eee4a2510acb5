"""What an idle agent poll needs, kept in this process's memory (the lean path in fastpath.py).

One entry per server, keyed by the SHA-256 digest of its server secret (the digest the
database stores, never the secret): the store secret's digest, the queue version, the next
moment the due list changes by itself, the agent holding the server and when each kind of
poller was last recorded. An entry is trusted only while this process hears every change:

- PostgreSQL: the process's LISTEN connection (wakeup.py) is up; every write that changes a
  server's queue, secrets, agent or settings sends NOTIFY in its transaction, and the
  listener drops the server's entries when it arrives (on commit, in every process). A lost
  connection drops everything, since notices may have been missed meanwhile.
- SQLite (no cross-process signal): a watcher in fastpath.py compares every cached server
  with the database once a second and drops what changed, so a rotated secret is refused by
  every process within about a second.

Entries read from the database are stored only if no invalidation of that server happened
since the read began (``begin``/``put``), so a notice that overtakes a slow read still wins.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# Past this without a watcher tick the SQLite entries are not trusted (a stalled loop).
WATCHER_STALE_SECONDS = 3.0


@dataclass(slots=True)
class Entry:
    server_id: int
    store_hash: str
    version: int
    retry_due: float | None  # epoch seconds: back-off ends or a lease runs out
    holder: str  # agent_instance holding the server
    holder_seen: float | None
    anonymous_seen: float | None
    poll_seconds: int
    busy: bool  # the server has pending commands: a 200-empty needs the database
    epoch: int


_lock = threading.Lock()
_entries: dict[str, Entry] = {}
_digests: dict[int, set[str]] = {}
_dropped_at: dict[int, int] = {}  # server id -> invalidation sequence number
_seq = 0
_epoch = 0
_healthy = False
_beat_required = False
_last_beat = 0.0


def channel_up(*, beat: bool = False) -> None:
    """The change channel works from now on: a new epoch (older entries were not covered)."""
    global _epoch, _healthy, _beat_required, _last_beat
    with _lock:
        _epoch += 1
        _entries.clear()
        _digests.clear()
        _healthy, _beat_required, _last_beat = True, beat, time.monotonic()


def channel_down() -> None:
    global _healthy
    with _lock:
        _healthy = False
        _entries.clear()
        _digests.clear()


def beat() -> None:
    """The SQLite watcher compared everything cached just now."""
    global _last_beat
    _last_beat = time.monotonic()


def _trusted() -> bool:
    if not _healthy:
        return False
    return not _beat_required or time.monotonic() - _last_beat < WATCHER_STALE_SECONDS


def begin() -> tuple[int, int] | None:
    """Call before reading a server from the database; None when nothing can be cached."""
    with _lock:
        return (_seq, _epoch) if _trusted() else None


def put(digest: str, entry: Entry, token: tuple[int, int]) -> bool:
    seq, epoch = token
    with _lock:
        if not _trusted() or epoch != _epoch or _dropped_at.get(entry.server_id, -1) > seq:
            return False
        entry.epoch = epoch
        _entries[digest] = entry
        _digests.setdefault(entry.server_id, set()).add(digest)
        return True


def get(digest: str) -> Entry | None:
    entry = _entries.get(digest)
    if entry is None or entry.epoch != _epoch or not _trusted():
        return None
    return entry


def invalidate(server_ids) -> None:
    global _seq, _epoch
    with _lock:
        _seq += 1
        for server_id in server_ids:
            _dropped_at[server_id] = _seq
            for digest in _digests.pop(server_id, ()):
                _entries.pop(digest, None)
        if len(_dropped_at) > 200_000:
            # Bounded memory: forget the marks, and with a new epoch no read that began
            # before (and might have needed them) can store its result.
            _dropped_at.clear()
            _entries.clear()
            _digests.clear()
            _epoch += 1


def cached() -> list[tuple[str, Entry]]:
    with _lock:
        return list(_entries.items())


def size() -> int:
    return len(_entries)
