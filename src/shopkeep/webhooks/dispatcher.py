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
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from shopkeep.core.http import TOTAL_TIMEOUT, is_blocked_error, safe_async_client
from shopkeep.webhooks import queue, schedule
from shopkeep.webhooks.models import WebhookEndpoint
from shopkeep.webhooks.queue import Job, Outcome
from shopkeep.webhooks.signing import USER_AGENT, plain_headers, signed_headers

logger = logging.getLogger("shopkeep.webhooks")

RESPONSE_BODY_LIMIT = 4096
RESPONSE_HEADERS_LIMIT = 30


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
                 max_in_flight: int = 512, batch: int = 200, poll_interval: float = 0.5,
                 allow_private: bool | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 -- jitter, not a secret
        self.per_endpoint = per_endpoint or settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT
        self.max_in_flight = max_in_flight
        self.batch = batch
        self.poll_interval = poll_interval
        self.allow_private = (settings.WEBHOOK_ALLOW_PRIVATE if allow_private is None
                              else allow_private)
        self._client = client
        self._in_flight: dict[int, int] = defaultdict(int)
        self._tasks: set[asyncio.Task] = set()
        self._results: list[tuple[Job, Outcome]] = []
        self._wake = asyncio.Event()
        self.sent = 0

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

    async def _send(self, client: httpx.AsyncClient, job: Job) -> None:
        try:
            out = await self.exchange(client, job)
            self._results.append((job, out))
            self.sent += 1
        finally:
            self._in_flight[job.endpoint_pk] -= 1
            self._wake.set()

    # -- the database side ---------------------------------------------------------------

    async def _flush(self) -> None:
        if not self._results:
            return
        results, self._results = self._results, []
        to_disable = await sync_to_async(queue.record)(results=results, now=self.clock(),
                                                        rng=self.rng)
        for endpoint_pk, reason, detail in to_disable:
            await sync_to_async(_disable)(endpoint_pk, reason, detail, self.clock())

    async def _claim(self) -> list[Job]:
        room = {pk: self.per_endpoint - n for pk, n in self._in_flight.items() if n}
        limit = min(self.batch, self.max_in_flight - sum(self._in_flight.values()))
        return await sync_to_async(queue.claim)(now=self.clock(), limit=limit, room=room,
                                                default_room=self.per_endpoint)

    async def step(self, client: httpx.AsyncClient) -> int:
        """Record finished sends, fan out, claim and start sends; returns how many started."""
        await self._flush()
        await sync_to_async(queue.fanout)(now=self.clock())
        jobs = await self._claim()
        for job in jobs:
            self._in_flight[job.endpoint_pk] += 1
            task = asyncio.create_task(self._send(client, job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(jobs)

    # -- loops ---------------------------------------------------------------------------

    async def run(self, *, stop: asyncio.Event | None = None, until_idle: bool = False) -> None:
        client = self._client or safe_async_client(allow_private=self.allow_private,
                                                   user_agent=USER_AGENT)
        try:
            while not (stop and stop.is_set()):
                self._wake.clear()
                try:
                    started = await self.step(client)
                except Exception:
                    # A database hiccup must not kill the loop; leases make a retry safe.
                    logger.exception("webhook dispatcher step failed")
                    await sync_to_async(close_old_connections)()
                    started = 0
                    await asyncio.sleep(self.poll_interval)
                idle = not started and not self._tasks and not self._results
                if idle and until_idle and not await sync_to_async(queue.backlog)(
                        now=self.clock()):
                    break
                if not started:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._flush()
            if self._client is None:
                await client.aclose()

    async def run_until_idle(self) -> int:
        """Send everything due now (and retries that fall due meanwhile), then return."""
        await self.run(until_idle=True)
        return self.sent


def _disable(endpoint_pk: int, reason: str, detail: str, now: datetime) -> None:
    from shopkeep.webhooks.services import endpoint_disable

    endpoint = WebhookEndpoint.objects.select_related("store").filter(pk=endpoint_pk).first()
    if endpoint is not None:
        endpoint_disable(endpoint=endpoint, reason=reason, now=now, detail=detail)
