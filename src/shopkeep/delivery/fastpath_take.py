"""The lean path's answer to a poll whose list changed (PostgreSQL): the due commands, leased
to the poller, read and leased in a few set-based statements shared by every poll of the
moment instead of a thread hop and a handful of ORM queries each.

The semantics are ``agent.due_commands``'s, statement for statement:

- due: ``pending``, the lease free (none, run out, or already this poller's), and not held
  back by an earlier ``retrying`` command of the same player on the server (queue order per
  player); the first ``limit`` by id, and ``more`` when there is one beyond;
- the lease is taken by an UPDATE conditional on it still being free, so of two pollers
  racing (two requests, two processes, the lean path and Django) one takes each command, and
  each is answered with exactly what it holds;
- the server's ``retry_due_at`` is brought forward to the lease's end and a NOTIFY sent in
  the same transaction, so every process's cached idle answer notices when the lease ends.

One poll per server goes into a statement (two pollers of one server in one UPDATE could
not be told apart); the others of that server wait for the next statement of the batch.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shopkeep.catalog.models import Product
from shopkeep.delivery.models import COMMAND_LEASE_SECONDS, DeliveryCommand
from shopkeep.delivery.wakeup import CHANNEL, payloads
from shopkeep.orders.models import Order, OrderItem

logger = logging.getLogger("shopkeep.delivery.fastpath")

# Polls per statement, and statements at once (the pool has 4 connections; one stays free
# for lookups): smaller statements side by side answer the first polls sooner, and the
# database updates one chunk while this process writes the answers of another.
BATCH = 100
AT_ONCE = 3
# Literal SQL; the statuses it names are checked against the model.
assert tuple(DeliveryCommand.HOLDS_PLAYER) == ("retrying",)
assert DeliveryCommand.Status.PENDING == "pending"
assert (Order._meta.db_table, OrderItem._meta.db_table, Product._meta.db_table) == \
    ("orders_order", "orders_orderitem", "catalog_product")

# %(...)s parameters: servers/owners/limits (arrays, one poll per server), now, until.
TAKE = """
WITH req(server_id, owner, lim) AS (
    SELECT * FROM unnest(%(servers)s::bigint[], %(owners)s::text[], %(limits)s::int[])
),
cand AS (
    SELECT r.server_id, r.owner, r.lim, d.id,
           row_number() OVER (PARTITION BY r.server_id ORDER BY d.id) AS rn
    FROM req r CROSS JOIN LATERAL (
        SELECT c.id FROM delivery_deliverycommand c
        WHERE c.server_id = r.server_id AND c.status = 'pending'
          AND (c.leased_until IS NULL OR c.leased_until <= %(now)s OR c.lease_owner = r.owner)
          AND NOT (c.player_name <> '' AND EXISTS (
              SELECT 1 FROM delivery_deliverycommand e
              WHERE e.server_id = r.server_id AND e.status IN ('retrying')
                AND e.player_name = c.player_name AND e.id < c.id))
        ORDER BY c.id LIMIT r.lim + 1
    ) d
),
leased AS (
    UPDATE delivery_deliverycommand c
    SET lease_owner = k.owner, leased_until = %(until)s
    FROM cand k
    WHERE k.rn <= k.lim AND c.id = k.id AND c.status = 'pending'
      AND (c.leased_until IS NULL OR c.leased_until <= %(now)s OR c.lease_owner = k.owner)
    RETURNING c.id, c.server_id, c.type, c.command, c.placeholders, c.require_online,
              c.player_name, c.player_uuid, c.player_steam_id, c.order_id, c.order_item_id,
              c.product_id, c.origin, c.attempt_count, c.created_at, c.safe_to_repeat,
              c.delay_after_join, c.leased_until
)
SELECT r.server_id,
       EXISTS (SELECT 1 FROM cand m WHERE m.server_id = r.server_id AND m.rn > m.lim),
       l.id, l.type, l.command, l.placeholders, l.require_online, l.player_name,
       l.player_uuid, l.player_steam_id, l.order_id, o.order_number, l.order_item_id,
       i.product_id, i.product_name, l.product_id, p.name, l.origin, l.attempt_count,
       l.created_at, l.safe_to_repeat, l.delay_after_join, l.leased_until
FROM req r
LEFT JOIN (leased l
           -- test and manual commands have no order; a manual one may name a product
           LEFT JOIN orders_order o ON o.id = l.order_id
           LEFT JOIN orders_orderitem i ON i.id = l.order_item_id
           LEFT JOIN catalog_product p ON p.id = l.product_id)
       ON l.server_id = r.server_id
ORDER BY r.server_id, l.id
"""
# What due_commands does once a poller holds something: the lease's end is the next moment
# the server's list changes by itself.
RETRY_DUE = ("UPDATE delivery_gameserver SET retry_due_at = %(until)s "
             "WHERE id = ANY(%(servers)s::bigint[]) "
             "AND (retry_due_at IS NULL OR retry_due_at > %(until)s) RETURNING id")
NOTIFY = "SELECT pg_notify(%(channel)s, p) FROM unnest(%(payloads)s::text[]) p"


@dataclass(frozen=True, slots=True)
class Taken:
    rows: list[tuple]  # (id, type, command, ..., leased_until), see TAKE's select list
    more: bool


class Taker:
    """Collects the takes of one moment and runs them as a few statements, side by side on
    the pool's connections."""

    def __init__(self, pool_of) -> None:
        self._pool_of = pool_of  # async () -> psycopg_pool.AsyncConnectionPool
        self._wanted: dict[tuple[int, str, int], list[asyncio.Future]] = {}
        self._worker: asyncio.Task | None = None
        self._slots: asyncio.Semaphore | None = None
        self._settling: set[asyncio.Task] = set()
        self.statements = 0  # bench and tests read it

    async def take(self, *, server_id: int, owner: str, limit: int) -> Taken:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        # The same poller twice (one agent's overlapping polls) shares one answer, as it
        # shares its leases in due_commands.
        self._wanted.setdefault((server_id, owner, limit), []).append(future)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._run(), name="shopkeep-agent-take")
        return await future

    async def _run(self) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(AT_ONCE)
        await asyncio.sleep(0)  # let the polls woken together arrive
        while self._wanted:
            await self._slots.acquire()  # bounds the statements of every worker together
            batch: dict[tuple[int, str, int], list[asyncio.Future]] = {}
            servers: set[int] = set()
            for key in list(self._wanted):
                if key[0] in servers:
                    continue
                servers.add(key[0])
                batch[key] = self._wanted.pop(key)
                if len(batch) >= BATCH:
                    break
            task = asyncio.get_running_loop().create_task(self._settle(batch))
            self._settling.add(task)  # a reference, so the task is not collected mid-way
            task.add_done_callback(self._settling.discard)

    async def _settle(self, batch: dict[tuple[int, str, int], list[asyncio.Future]]) -> None:
        try:
            results = await self._statement(list(batch))
        except Exception as exc:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        finally:
            self._slots.release()
        for key, futures in batch.items():
            for future in futures:
                if not future.done():
                    future.set_result(results[key])

    async def _statement(self, keys: list[tuple[int, str, int]]) -> dict:
        from shopkeep.delivery.wakeup import wake_local

        now = datetime.now(UTC)
        until = now + timedelta(seconds=COMMAND_LEASE_SECONDS)
        params = {"servers": [k[0] for k in keys], "owners": [k[1] for k in keys],
                  "limits": [k[2] for k in keys], "now": now, "until": until,
                  "channel": CHANNEL}
        by_server: dict[int, Taken] = {}
        pool = await self._pool_of()
        async with pool.connection() as conn, conn.transaction():
            rows = await (await conn.execute(TAKE, params)).fetchall()
            for row in rows:
                server_id, more, *command = row
                taken = by_server.setdefault(server_id, Taken(rows=[], more=more))
                if command[0] is not None:
                    taken.rows.append(tuple(command))
            holding = [sid for sid, taken in by_server.items() if taken.rows]
            notified: list[int] = []
            if holding:
                cursor = await conn.execute(RETRY_DUE, {**params, "servers": holding})
                notified = [row[0] for row in await cursor.fetchall()]
                if notified:
                    await conn.execute(NOTIFY, {"channel": CHANNEL,
                                                "payloads": payloads(notified)})
        self.statements += 1
        if notified:
            wake_local(notified)  # this process's other waiters need not wait for LISTEN
        return {key: by_server[key[0]] for key in keys}
