"""The lean agent path's database access: a few fixed statements, never on a thread per poll.

PostgreSQL: a psycopg ``AsyncConnectionPool`` (autocommit, a handful of connections shared by
every poll of the process), so reading a server or recording that its agent was seen costs
no thread. SQLite has no async driver: a two-thread executor with its own connections runs
the same statements (the file is local; the pool bounds the threads however many polls wait).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from shopkeep.delivery.models import AgentKey, DeliveryCommand, GameServer

logger = logging.getLogger("shopkeep.delivery.fastpath")

# Literal SQL (the lean path runs no ORM); the table names are checked against the models.
LOOKUP = (
    "SELECT s.secret_hash, s.id, s.queue_version, s.retry_due_at, s.agent_instance, "
    "s.agent_seen_at, s.anonymous_seen_at, k.secret_hash, k.poll_seconds, "
    "EXISTS(SELECT 1 FROM delivery_deliverycommand c "
    "WHERE c.server_id = s.id AND c.status = 'pending') "
    "FROM delivery_gameserver s JOIN delivery_agentkey k ON k.store_id = s.store_id "
    "WHERE s.secret_hash IN ({digests}) AND s.removed_at IS NULL"
)
# Seen marks are written in batches: (server, instance) pairs still holding the server.
TOUCH_HOLDERS = ("UPDATE delivery_gameserver SET agent_seen_at = %s "
                 "WHERE (id, agent_instance) IN (VALUES {pairs})")
TOUCH_ANONYMOUS = "UPDATE delivery_gameserver SET anonymous_seen_at = %s WHERE id IN ({ids})"
# What the SQLite watcher compares with each cached entry (one row per server).
FINGERPRINTS = (
    "SELECT s.id, s.secret_hash, s.queue_version, s.retry_due_at, s.agent_instance, "
    "s.removed_at, k.secret_hash, k.poll_seconds "
    "FROM delivery_gameserver s JOIN delivery_agentkey k ON k.store_id = s.store_id "
    "WHERE s.id IN ({ids})"
)
assert (GameServer._meta.db_table, AgentKey._meta.db_table, DeliveryCommand._meta.db_table) \
    == ("delivery_gameserver", "delivery_agentkey", "delivery_deliverycommand")


def epoch(value: Any) -> float | None:
    """A datetime column as epoch seconds (SQLite returns Django's text form, naive UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
        if value is None:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class Database:
    """Created inside the event loop on first use; ``vendor`` is Django's for the default DB."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.settings = dict(connection.settings_dict)
        self._pool = None
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opening: asyncio.Lock | None = None
        self._wanted: dict[str, list[asyncio.Future]] = {}
        self._seen: dict[tuple[int, str], None] = {}
        self._flusher: asyncio.Task | None = None
        self._batcher: asyncio.Task | None = None

    # -- the statements ------------------------------------------------------------------------

    async def lookup(self, digest: str) -> tuple | None:
        """One server's row by its secret digest. Misses that arrive together (a restart, a
        thousand agents woken at once) share one query of up to 500 digests, so a burst of
        polls costs a few statements, not one each, and never waits on the pool in a queue."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._wanted.setdefault(digest, []).append(future)
        if self._batcher is None or self._batcher.done():
            self._batcher = loop.create_task(self._lookups(), name="shopkeep-agent-lookup")
        return await future

    async def _lookups(self) -> None:
        await asyncio.sleep(0)  # let the misses of this moment arrive
        while self._wanted:
            batch = dict(list(self._wanted.items())[:500])
            for digest in batch:
                del self._wanted[digest]
            try:
                sql = LOOKUP.format(digests=", ".join(["%s"] * len(batch)))
                rows = {row[0]: row[1:] for row in await self._all(sql, tuple(batch))}
            except Exception as exc:
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for digest, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(rows.get(digest))

    def note_seen(self, server_id: int, instance: str) -> None:
        """Record (soon, batched with others) that the agent polled: what claim() writes
        every 20 s. The poll is answered without waiting; if the write fails, the server's
        entry is dropped so its next poll goes the long way."""
        self._seen[(server_id, instance)] = None
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(
                self._flush_seen(), name="shopkeep-agent-seen")

    async def _flush_seen(self) -> None:
        from shopkeep.delivery import agentcache

        await asyncio.sleep(0)
        while self._seen:
            batch = list(self._seen)[:500]
            for key in batch:
                del self._seen[key]
            at = self._dt(datetime.now(UTC))
            holders = [(sid, inst) for sid, inst in batch if inst]
            anonymous = [sid for sid, inst in batch if not inst]
            try:
                if holders:
                    sql = TOUCH_HOLDERS.format(pairs=", ".join(["(%s, %s)"] * len(holders)))
                    await self._write(sql, (at, *[v for pair in holders for v in pair]))
                if anonymous:
                    sql = TOUCH_ANONYMOUS.format(ids=", ".join(["%s"] * len(anonymous)))
                    await self._write(sql, (at, *anonymous))
            except Exception:
                logger.warning("recording agent polls failed", exc_info=True)
                agentcache.invalidate({sid for sid, _ in batch})

    async def fingerprints(self, server_ids: list[int]) -> list[tuple]:
        rows: list[tuple] = []
        for start in range(0, len(server_ids), 500):
            chunk = server_ids[start:start + 500]
            sql = FINGERPRINTS.format(ids=", ".join(["%s"] * len(chunk)))
            rows += await self._all(sql, tuple(chunk))
        return rows

    def _dt(self, at: datetime) -> Any:
        if self.vendor == "postgresql":
            return at
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ")

    # -- PostgreSQL ----------------------------------------------------------------------------

    async def _pg(self):
        if self._pool is None:
            if self._opening is None:
                self._opening = asyncio.Lock()
            async with self._opening:
                if self._pool is None:
                    from psycopg.conninfo import make_conninfo
                    from psycopg_pool import AsyncConnectionPool

                    from shopkeep.delivery.wakeup import _conninfo

                    pool = AsyncConnectionPool(make_conninfo(**_conninfo()), min_size=1,
                                               max_size=4, open=False, timeout=30,
                                               kwargs={"autocommit": True})
                    await pool.open()
                    self._pool = pool
        return self._pool

    async def _all(self, sql: str, params: tuple) -> list[tuple]:
        if self.vendor == "postgresql":
            pool = await self._pg()
            async with pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return await cursor.fetchall()
        return await self._in_thread(self._sqlite_all, sql, params)

    async def _write(self, sql: str, params: tuple) -> int:
        if self.vendor == "postgresql":
            pool = await self._pg()
            async with pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return cursor.rowcount
        return await self._in_thread(self._sqlite_write, sql, params)

    # -- SQLite --------------------------------------------------------------------------------

    async def _in_thread(self, fn, *args):
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2,
                                                thread_name_prefix="shopkeep-agent-db")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _sqlite(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            name = str(self.settings["NAME"])
            conn = sqlite3.connect(name, timeout=5, isolation_level=None,
                                   uri=name.startswith("file:"), check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 5000")
            self._local.conn = conn
        return conn

    def _sqlite_all(self, sql: str, params: tuple) -> list[tuple]:
        return self._sqlite().execute(sql.replace("%s", "?"), params).fetchall()

    def _sqlite_write(self, sql: str, params: tuple) -> int:
        return self._sqlite().execute(sql.replace("%s", "?"), params).rowcount

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
