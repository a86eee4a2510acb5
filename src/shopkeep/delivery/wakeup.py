"""Wake long-polling agents when a command is queued for their server.

A waiting poll holds no database connection: it waits on an ``asyncio.Event`` registered
here under its server id. Writers call ``notify_servers`` inside their transaction:

- every process wakes its own waiters once the transaction commits (``on_commit``);
- on PostgreSQL the same transaction also runs ``pg_notify``, which PostgreSQL delivers on
  commit to every listening process, where one dedicated autocommit connection per process
  (``_Listener``) fans the ids out to the local waiters.

SQLite has no cross-process signal, so there waiters also re-check every
``SQLITE_RECHECK_SECONDS`` (the web and worker processes share the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable

from django.db import connection, transaction

from shopkeep.core import metrics
from shopkeep.delivery import agentcache

logger = logging.getLogger("shopkeep.delivery.wakeup")

CHANNEL = "shopkeep_delivery"
# Server ids per NOTIFY payload ("12,15,40"): a purchase that queues commands on a thousand
# servers sends a few notices, not a thousand (payloads stay far below PostgreSQL's 8000
# bytes), and each listener handles them as a few batches.
IDS_PER_NOTICE = 400
SQLITE_RECHECK_SECONDS = 1.0
_RECONNECT_SECONDS = 2.0

_lock = threading.Lock()
_waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def notify_servers(server_ids: Iterable[int]) -> None:
    """Call inside the transaction that changed these servers' queues."""
    ids = sorted(set(server_ids))
    if not ids:
        return
    if _on_postgres():
        with connection.cursor() as cursor:
            for payload in payloads(ids):
                cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])
    transaction.on_commit(lambda: wake_local(ids))


def payloads(server_ids: list[int]) -> list[str]:
    return [",".join(map(str, server_ids[i:i + IDS_PER_NOTICE]))
            for i in range(0, len(server_ids), IDS_PER_NOTICE)]


def parse_payload(payload: str) -> list[int]:
    """The ids of one notice; a malformed one (nobody of ours sends it) is ignored."""
    try:
        return [int(part) for part in payload.split(",")]
    except ValueError:
        return []


def wake_local(server_ids: Iterable[int]) -> None:
    server_ids = list(server_ids)
    # What this process cached about these servers is stale: drop it before anyone wakes.
    agentcache.invalidate(server_ids)
    with _lock:
        targets = [pair for sid in server_ids for pair in _waiters.get(sid, ())]
    for loop, event in targets:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(event.set)


class _Listener:
    """One LISTEN connection per process and event loop, reconnecting on failure."""

    def __init__(self) -> None:
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready: asyncio.Event | None = None  # created inside the loop, see ensure()

    def healthy(self) -> bool:
        return self.ready is not None and self.ready.is_set()

    def ensure(self) -> None:
        loop = asyncio.get_running_loop()
        if self.task is not None and self.loop is loop and not self.task.done():
            return
        self.loop = loop
        self.ready = asyncio.Event()
        self.task = loop.create_task(self._run(), name="shopkeep-delivery-listen")

    async def _run(self) -> None:
        import psycopg

        params = _conninfo()
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    agentcache.channel_up()
                    async for note in conn.notifies():
                        ids = parse_payload(note.payload)
                        if ids:
                            wake_local(ids)
            except asyncio.CancelledError:
                agentcache.channel_down()
                raise
            except Exception:
                logger.warning("delivery LISTEN connection lost; retrying", exc_info=True)
            self.ready.clear()
            agentcache.channel_down()
            # Waiters fall back to re-checking while the listener is down.
            wake_local(list(_waiters))
            await asyncio.sleep(_RECONNECT_SECONDS)


def _conninfo() -> dict:
    s = connection.settings_dict
    params = {"dbname": s["NAME"], "user": s.get("USER") or None,
              "password": s.get("PASSWORD") or None, "host": s.get("HOST") or None,
              "port": s.get("PORT") or None}
    return {k: v for k, v in params.items() if v}


_listener = _Listener()


class Waiter:
    """Register before reading the queue, so a command queued between the read and the wait
    still wakes this request::

        with Waiter(server_id) as waiter:
            ... read the queue; nothing new ...
            await waiter.wait(timeout)   # True when notified

    Cancellation (the client went away) propagates after the waiter is unregistered.
    """

    def __init__(self, server_id: int) -> None:
        self.server_id = server_id
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        self.postgres = _on_postgres()

    def __enter__(self) -> Waiter:
        if self.postgres:
            _listener.ensure()
        with _lock:
            _waiters.setdefault(self.server_id, set()).add((self.loop, self.event))
        metrics.AGENT_LONG_POLLS_HELD.inc()
        return self

    def __exit__(self, *exc: object) -> None:
        metrics.AGENT_LONG_POLLS_HELD.dec()
        with _lock:
            waiting = _waiters.get(self.server_id)
            if waiting is not None:
                waiting.discard((self.loop, self.event))
                if not waiting:
                    del _waiters[self.server_id]

    async def wait(self, timeout: float) -> bool:
        if timeout <= 0:
            return False
        if not self.postgres or not _listener.healthy():
            # No cross-process signal (SQLite, or LISTEN reconnecting): re-check soon.
            timeout = min(timeout, SQLITE_RECHECK_SECONDS)
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        self.event.clear()
        return True


def waiting_count() -> int:
    with _lock:
        return sum(len(v) for v in _waiters.values())
