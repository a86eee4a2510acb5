"""The webhook dispatcher: an asyncio loop that fans events out, claims due deliveries and
sends them, many at once, never more than ``per_endpoint`` at a time to one endpoint, so a
slow or dead endpoint only ever ties up its own slots.

Results are written in batches by one recorder task; until a result is written its delivery
stays leased, so no other dispatcher can take it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from shopkeep.core.heartbeat import Beater
from shopkeep.core.http import TOTAL_TIMEOUT, is_blocked_error, safe_async_client
from shopkeep.webhooks import queue, schedule
from shopkeep.webhooks.models import WebhookEndpoint
from shopkeep.webhooks.queue import Job, Outcome
from shopkeep.webhooks.signing import USER_AGENT, plain_headers, signed_headers

logger = logging.getLogger("shopkeep.webhooks")

RESPONSE_BODY_LIMIT = 4096
RESPONSE_HEADERS_LIMIT = 30
FANOUT_EVERY = 0.1  # seconds between looks at the event outbox while busy
FLUSH_AT, FLUSH_EVERY = 200, 0.05
QUEUE_FACTOR = 4  # deliveries an endpoint may hold (sending + queued), per slot


def _discord_retry_after(out: Outcome) -> None:
    # Discord answers 429 with {"retry_after": seconds} in the body (and a Retry-After header).
    try:
        value = json.loads(out.response_body).get("retry_after")
    except (ValueError, AttributeError):
        return
    if isinstance(value, int | float) and value >= 0:
        seconds = min(float(value), schedule.MAX_RETRY_AFTER.total_seconds())
        delay = timedelta(seconds=seconds)
        out.retry_after = max(out.retry_after or delay, delay)


class Dispatcher:
    def __init__(self, *, clock: Callable[[], datetime] = timezone.now,
                 rng: random.Random | None = None, per_endpoint: int | None = None,
                 max_in_flight: int = 512, batch: int = 100, poll_interval: float = 0.5,
                 allow_private: bool | None = None) -> None:
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 -- jitter, not a secret
        self.per_endpoint = per_endpoint or settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT
        self.max_in_flight = max_in_flight
        self.batch = batch
        self.poll_interval = poll_interval
        self.allow_private = (settings.WEBHOOK_ALLOW_PRIVATE if allow_private is None
                              else allow_private)
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._client_used: dict[int, float] = {}
        self._queued: dict[int, deque[Job]] = defaultdict(deque)
        self._next_fanout = 0.0
        self._flushed = 0.0
        self._in_flight: dict[int, int] = defaultdict(int)
        self._tasks: set[asyncio.Task] = set()
        self._results: list[tuple[Job, Outcome]] = []
        self._wake = asyncio.Event()
        self.sent = 0
        # Set by `shopkeep dispatcher` (tests and benchmarks run without one).
        self.beater: Beater | None = None

    # -- one exchange --------------------------------------------------------------------

    def _headers(self, job: Job, body: bytes) -> dict[str, str]:
        if job.format == WebhookEndpoint.Format.DISCORD:
            return plain_headers()
        return signed_headers(secrets_in_use=list(job.secrets), delivery_id=job.delivery_id,
                              event_type=job.event_type,
                              timestamp=int(self.clock().timestamp()), body=body)

    async def exchange(self, client: httpx.AsyncClient, job: Job) -> Outcome:
        body = job.body.encode("utf-8")
        headers = self._headers(job, body)
        out = Outcome(started_at=self.clock(), duration_ms=0, request_headers=headers)
        started = time.monotonic()
        try:
            async with asyncio.timeout(TOTAL_TIMEOUT):
                async with client.stream("POST", job.url, content=body,
                                         headers=headers) as response:
                    out.status_code = response.status_code
                    out.response_headers = dict(list(response.headers.items())
                                                [:RESPONSE_HEADERS_LIMIT])
                    kept = bytearray()
                    # Raw bytes: a compressed body is not inflated (no zip bombs), and reading
                    # stops at 4 KB whatever the endpoint sends.
                    async for chunk in response.aiter_raw():
                        kept += chunk
                        if len(kept) >= RESPONSE_BODY_LIMIT:
                            break
                    out.response_body = bytes(kept[:RESPONSE_BODY_LIMIT]).decode(
                        "utf-8", errors="replace")
        except TimeoutError:
            out.error = f"timed out after {TOTAL_TIMEOUT:.0f} s"
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            out.error = detail if is_blocked_error(exc) else f"{type(exc).__name__}: {detail}"
        out.duration_ms = int((time.monotonic() - started) * 1000)
        if out.status_code is not None and not out.succeeded:
            out.retry_after = schedule.parse_retry_after(
                out.response_headers.get("retry-after"), now=self.clock())
            if out.status_code == 429 and job.format == WebhookEndpoint.Format.DISCORD:
                _discord_retry_after(out)
            if not out.error:
                out.error = f"HTTP {out.status_code}"
        return out

    async def _send(self, client: httpx.AsyncClient, job: Job | None) -> None:
        """One of an endpoint's slots: sends ``job``, then whatever the claim queued for the
        same endpoint, without going back to the database in between."""
        endpoint_pk = job.endpoint_pk
        waiting = self._queued[endpoint_pk]
        try:
            while job is not None:
                out = await self.exchange(client, job)
                if not out.succeeded:
                    logger.info("webhook %s attempt %d failed: %s", job.delivery_id,
                                job.attempt_number, out.error,
                                extra={"request_id": job.request_id,
                                       "endpoint_id": job.endpoint_pk})
                self._results.append((job, out))
                self.sent += 1
                job = waiting.popleft() if waiting else None
                if len(waiting) == self.per_endpoint:
                    self._wake.set()  # half the endpoint's queue is gone: time to refill
        finally:
            self._in_flight[endpoint_pk] -= 1
            self._wake.set()

    def _client_for(self, endpoint_pk: int) -> httpx.AsyncClient:
        # One small connection pool per endpoint: httpx's pool slows down sharply as the
        # connections in one pool grow, and a dead endpoint's sockets stay in its own pool.
        client = self._clients.get(endpoint_pk)
        if client is None:
            client = self._clients[endpoint_pk] = safe_async_client(
                allow_private=self.allow_private, user_agent=USER_AGENT,
                max_connections=self.per_endpoint)
        self._client_used[endpoint_pk] = time.monotonic()
        return client

    async def _close_idle_clients(self, older_than: float) -> None:
        cutoff = time.monotonic() - older_than
        for pk in [pk for pk, used in self._client_used.items()
                   if used < cutoff and not self._in_flight.get(pk)]:
            self._client_used.pop(pk, None)
            client = self._clients.pop(pk, None)
            if client is not None:
                await client.aclose()

    # -- the database side ---------------------------------------------------------------

    async def _flush(self, *, force: bool = False) -> None:
        # Results are written in batches: one transaction per ~50 ms of sending, not per send.
        if not self._results or (not force and len(self._results) < FLUSH_AT
                                 and time.monotonic() - self._flushed < FLUSH_EVERY):
            return
        self._flushed = time.monotonic()
        results, self._results = self._results, []
        to_disable = await sync_to_async(queue.record)(results=results, now=self.clock(),
                                                        rng=self.rng)
        for endpoint_pk, reason, detail in to_disable:
            await sync_to_async(_disable)(endpoint_pk, reason, detail, self.clock())

    def _held(self, endpoint_pk: int) -> int:
        return self._in_flight.get(endpoint_pk, 0) + len(self._queued.get(endpoint_pk, ()))

    async def _claim(self) -> list[Job]:
        # Each endpoint may hold its slots plus three times as many queued behind them: a
        # queued delivery waits at most three exchanges (45 s), inside its lease (120 s).
        depth = QUEUE_FACTOR * self.per_endpoint
        room = {pk: depth - self._held(pk) for pk in set(self._in_flight) | set(self._queued)}
        held = sum(self._in_flight.values()) + sum(len(q) for q in self._queued.values())
        limit = min(self.batch, QUEUE_FACTOR * self.max_in_flight - held)
        return await sync_to_async(queue.claim)(now=self.clock(), limit=limit, room=room,
                                                default_room=depth)

    async def step(self) -> int:
        """Record finished sends, fan out, claim and start sends; returns how many claimed."""
        await self._flush()
        if time.monotonic() >= self._next_fanout:
            fanned = await sync_to_async(queue.fanout)(now=self.clock())
            # A full batch means more are waiting: go again at once, else pause a little.
            self._next_fanout = time.monotonic() + (0 if fanned >= 500 else FANOUT_EVERY)
        jobs = await self._claim()
        for job in jobs:
            pk = job.endpoint_pk
            if self._in_flight[pk] >= self.per_endpoint:
                self._queued[pk].append(job)
                continue
            self._in_flight[pk] += 1
            task = asyncio.create_task(self._send(self._client_for(pk), job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(jobs)

    # -- loops ---------------------------------------------------------------------------

    def _busy(self) -> bool:
        return bool(self._tasks or self._results or any(self._queued.values()))

    async def run(self, *, stop: asyncio.Event | None = None, until_idle: bool = False) -> None:
        last_cleanup = time.monotonic()
        try:
            while not (stop and stop.is_set()):
                self._wake.clear()
                if self.beater is not None and self.beater.due():
                    await sync_to_async(self.beater.beat)()
                try:
                    claimed = await self.step()
                except Exception:
                    # A database hiccup must not kill the loop; leases make a retry safe.
                    logger.exception("webhook dispatcher step failed")
                    await sync_to_async(close_old_connections)()
                    claimed = 0
                    await asyncio.sleep(self.poll_interval)
                if not claimed and not self._tasks:
                    await self._flush(force=True)
                if (until_idle and not claimed and not self._busy()
                        and not await sync_to_async(queue.backlog)(now=self.clock())):
                    break
                if time.monotonic() - last_cleanup > 60:
                    last_cleanup = time.monotonic()
                    await self._close_idle_clients(300)
                if not claimed:
                    # Busy: come back soon to record results and refill; idle: poll slowly.
                    timeout = min(self.poll_interval, 0.05) if self._busy() else \
                        self.poll_interval
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            # Queued, unsent deliveries keep their lease and go out after it ends. The slots
            # hold these deques, so empty them rather than just dropping the dict.
            for waiting in self._queued.values():
                waiting.clear()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._flush(force=True)
            await self._close_idle_clients(-1)
            if self.beater is not None:
                await sync_to_async(self.beater.stop)()

    async def run_until_idle(self) -> int:
        """Send everything due now (and retries that fall due meanwhile), then return."""
        await self.run(until_idle=True)
        return self.sent


def _disable(endpoint_pk: int, reason: str, detail: str, now: datetime) -> None:
    from shopkeep.webhooks.services import endpoint_disable

    endpoint = WebhookEndpoint.objects.select_related("store").filter(pk=endpoint_pk).first()
    if endpoint is not None:
        endpoint_disable(endpoint=endpoint, reason=reason, now=now, detail=detail)
