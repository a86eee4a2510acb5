"""The lean ASGI path for the request the platform answers most: an agent poll.

``AgentFastPath`` wraps Django's ASGI application (inside the body cap, see shopkeep.asgi).
For ``GET /api/v1/agent/commands/pending`` it answers, without Django's request stack, the
polls whose answer is already known in memory (agentcache.py): a ``304`` for a matching
``If-None-Match``, or a ``200`` with an empty list for a server with nothing pending, and it
holds long-polls (``?wait=``) on an ``asyncio.Event`` at the cost of a socket and a few small
objects, with no thread and no database connection. On PostgreSQL a poll whose list changed
(a purchase woke it) is answered here too: its due commands are read and leased through the
async pool with due_commands' semantics, in statements shared by the polls of the moment
(fastpath_take.py). Everything else is handed to Django unchanged: any error (401, 400, 409,
422, 429, redirects, bad hosts), back-offs and leases that ran out, an agent take-over, and
changed lists on SQLite. So the answers, headers, rate limits, leases and the one-agent rule
are Django's, and tests/delivery/test_fastpath.py checks that both paths answer alike byte
for byte and that racing pollers never both receive a command.

The database is touched only on a cache miss (one statement through an async pool), for a
changed list, and to record that an agent was seen (every 20 s, as the Django path does).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from shopkeep.core.metrics import AGENT_LONG_POLLS_HELD as HELD
from shopkeep.core.metrics import POLLS_LEAN_LIST, POLLS_MEMORY_200, POLLS_MEMORY_304
from shopkeep.core.middleware import DEFAULT_CSP
from shopkeep.core.timefmt import iso
from shopkeep.delivery import agentcache, wakeup
from shopkeep.delivery.agent import (
    INSTANCE_RE,
    SEEN_WRITE_EVERY,
    anonymous_owner,
    command_payload,
    etag_matches,
)
from shopkeep.delivery.api_agent import RateLimited, rate_limit_check
from shopkeep.delivery.fastpath_db import Database, epoch
from shopkeep.delivery.fastpath_take import Taken, Taker

logger = logging.getLogger("shopkeep.delivery.fastpath")

PATH = "/api/v1/agent/commands/pending"
SEEN_EVERY = SEEN_WRITE_EVERY.total_seconds()
WOKEN_AT_ONCE = 8  # below Django's database pool, so woken polls never time out on it
WATCH_SECONDS = 0.5  # a rotated secret is refused by every process within this
# Polls answered from memory (tests and bench read it).
STATS = {"memory": 0}
_WANTED = {b"x-store-secret", b"x-server-secret", b"x-agent-instance", b"if-none-match",
           b"host", b"x-forwarded-host", b"x-forwarded-proto"}


class _Request:
    __slots__ = ("digest", "headers", "instance", "limit", "match", "owner", "store", "wait")


def _parse(scope) -> _Request | None:
    """The poll's inputs, or None when anything is unusual (Django then judges it)."""
    req = _Request()
    headers: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        name = name.lower()
        if name in _WANTED:
            if name in headers:
                return None
            headers[name] = value.decode("latin-1")
    limit, wait = 100, 0
    query = scope.get("query_string", b"")
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True) \
            if query else ():
        if key not in ("limit", "wait") or not value.isdigit() or len(value) > 3:
            return None
        number = int(value)
        if key == "limit":
            if not 1 <= number <= 500:
                return None
            limit = number
        else:
            if number > 30:
                return None
            wait = number
    store, server = headers.get(b"x-store-secret", ""), headers.get(b"x-server-secret", "")
    if not store or not server or len(store) > 200 or len(server) > 200:
        return None
    instance = headers.get(b"x-agent-instance", "")
    if instance and not INSTANCE_RE.match(instance):
        return None
    req.headers, req.limit, req.wait, req.instance = headers, limit, wait, instance
    req.store = hashlib.sha256(store.encode()).hexdigest()
    req.digest = hashlib.sha256(server.encode()).hexdigest()
    req.match = headers.get(b"if-none-match")
    req.owner = None  # set by the first take: idle polls never need one
    return req


class _Site:
    """Django's host check and the security headers its middlewares add to these answers."""

    def __init__(self) -> None:
        hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = [".localhost", "127.0.0.1", "[::1]"]
        self.hosts = hosts
        self.host_ok: dict[str, bool] = {}
        self.forwarded_host = settings.USE_X_FORWARDED_HOST
        self.proxy_ssl = settings.SECURE_PROXY_SSL_HEADER
        self.ssl_redirect = settings.SECURE_SSL_REDIRECT
        self.hsts = settings.SECURE_HSTS_SECONDS
        csp = getattr(settings, "SHOPKEEP_CSP", DEFAULT_CSP)
        # In the order Django's middlewares add them (inner ones first), so both paths send
        # the same bytes: X-Frame-Options, Content-Length, CSP, then SecurityMiddleware's.
        self.frame = (b"X-Frame-Options", settings.X_FRAME_OPTIONS.encode())
        self.csp = (b"Content-Security-Policy", csp.encode())
        security: list[tuple[bytes, bytes]] = []
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            security.append((b"X-Content-Type-Options", b"nosniff"))
        if settings.SECURE_REFERRER_POLICY:
            security.append((b"Referrer-Policy", settings.SECURE_REFERRER_POLICY.encode()))
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            security.append((b"Cross-Origin-Opener-Policy",
                             settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()))
        self.security = security

    def allowed(self, req: _Request) -> bool | None:
        """True: serve; None: hand to Django (bad host, or it would redirect to https)."""
        host = (req.headers.get(b"x-forwarded-host") if self.forwarded_host else None) \
            or req.headers.get(b"host")
        if not host:
            return None
        ok = self.host_ok.get(host)
        if ok is None:
            domain, _port = split_domain_port(host)
            ok = bool(domain) and validate_host(domain, self.hosts)
            if len(self.host_ok) < 256:  # the site's few names; never grows with hostile input
                self.host_ok[host] = ok
        if not ok:
            return None
        secure = False
        if self.proxy_ssl:
            header, value = self.proxy_ssl
            wanted = header.removeprefix("HTTP_").lower().replace("_", "-").encode()
            secure = req.headers.get(wanted) == value
        if self.ssl_redirect and not secure:
            return None
        req.headers[b"secure"] = "1" if secure else ""
        return True

    def headers(self, req: _Request, first: list[tuple[bytes, bytes]],
                length: int) -> list[tuple[bytes, bytes]]:
        hsts = []
        if self.hsts and req.headers.get(b"secure"):
            value = f"max-age={self.hsts}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                value += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                value += "; preload"
            hsts.append((b"Strict-Transport-Security", value.encode()))
        return [*first, self.frame, (b"Content-Length", str(length).encode()), self.csp,
                *hsts, *self.security]


class AgentFastPath:
    def __init__(self, app) -> None:
        self.app = app
        self.enabled = settings.SHOPKEEP_AGENT_FASTPATH
        self.rate_limited = settings.SHOPKEEP_AGENT_RATE_LIMIT > 0
        self.site = _Site()
        self.db: Database | None = None
        self.watcher: asyncio.Task | None = None
        self.postgres = False
        self.taker: Taker | None = None
        self._slots: asyncio.Semaphore | None = None

    def _woken_slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(WOKEN_AT_ONCE)
        return self._slots

    async def __call__(self, scope, receive, send) -> None:
        if (not self.enabled or scope["type"] != "http" or scope["path"] != PATH
                or scope["method"] != "GET"):
            return await self.app(scope, receive, send)
        req = _parse(scope)
        if req is None or not self.site.allowed(req):
            return await self.app(scope, receive, send)
        self._start()
        try:
            handled = await self._serve(req, scope, receive, send)
        except asyncio.CancelledError:
            raise
        except Exception:  # never let the lean path turn a poll into a 500
            logger.exception("agent fast path failed; Django answers instead")
            handled = False
        if not handled:
            await self.app(scope, receive, send)

    def _start(self) -> None:
        if self.db is None:
            self.db = Database()
            self.postgres = self.db.vendor == "postgresql"
            if self.postgres:
                self.taker = Taker(self.db._pg)
        if self.postgres:
            wakeup._listener.ensure()
        elif self.watcher is None or self.watcher.done():
            agentcache.channel_up(beat=True)  # the watcher's first comparison is due soon
            self.watcher = asyncio.get_running_loop().create_task(
                self._watch_sqlite(), name="shopkeep-agent-cache-watch")

    # -- answering -------------------------------------------------------------------------------

    async def _entry(self, req: _Request) -> agentcache.Entry | None:
        entry = agentcache.get(req.digest)
        if entry is not None:
            return entry
        token = agentcache.begin()
        if token is None and self.postgres and wakeup._listener.ready is not None:
            # Just started: the LISTEN connection is opening. Waiting for it briefly beats
            # handing a burst of polls to Django (a thread each while they are held).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup._listener.ready.wait(), 5)
            token = agentcache.begin()
        for _ in range(3):
            if token is None:
                return None
            row = await self.db.lookup(req.digest)
            if row is None:
                return None  # Django answers the 401
            (sid, version, retry_due, holder, holder_seen, anonymous_seen, store_hash, poll,
             busy) = row
            entry = agentcache.Entry(
                server_id=sid, store_hash=store_hash or "", version=int(version),
                retry_due=epoch(retry_due), holder=holder or "",
                holder_seen=epoch(holder_seen), anonymous_seen=epoch(anonymous_seen),
                poll_seconds=int(poll), busy=bool(busy), epoch=0)
            if agentcache.put(req.digest, entry, token):
                return entry
            # A change of this server was announced while we read (a wake-up's own notice
            # often is): the row may predate it, so read again rather than hand the poll
            # to Django.
            token = agentcache.begin()
        return None

    def _judge(self, req: _Request, entry: agentcache.Entry, now: float) -> str | None:
        """'304', '200' (empty), 'list' (read and lease the due commands here) or None
        (Django answers). No side effects."""
        if not entry.store_hash or not hmac.compare_digest(entry.store_hash, req.store):
            return None
        if entry.retry_due is not None and entry.retry_due <= now:
            return None
        if req.instance and entry.holder != req.instance:
            return None  # a first poll, a take-over or a second instance: Django decides
        etag = f'"q{entry.server_id}-{entry.version}-{req.limit}"'
        if req.match == etag or etag_matches(req.match, etag):  # the common case first
            return "304"
        if req.match is None and not entry.busy:
            return "200"
        # SQLite has no async driver: its changed lists stay Django's.
        return "list" if self.taker is not None else None

    async def _take(self, req: _Request, entry: agentcache.Entry) -> Taken:
        if req.owner is None:
            # Whom this poll's commands are leased to (agent_api.AgentContext.owner); an
            # anonymous poll keeps its one owner across the takes of its hold.
            req.owner = req.instance or anonymous_owner()
        return await self.taker.take(server_id=entry.server_id, owner=req.owner,
                                     limit=req.limit)

    def _record_seen(self, req: _Request, entry: agentcache.Entry, now: float) -> None:
        """What claim() writes, at most once per 20 s per agent, batched (fastpath_db)."""
        seen = entry.holder_seen if req.instance else entry.anonymous_seen
        if seen is not None and now - seen <= SEEN_EVERY:
            return
        self.db.note_seen(entry.server_id, req.instance)
        if req.instance:
            entry.holder_seen = now
        else:
            entry.anonymous_seen = now

    async def _serve(self, req: _Request, scope, receive, send) -> bool:
        entry = await self._entry(req)
        now = time.time()
        verdict = None if entry is None else self._judge(req, entry, now)
        if verdict is None:
            return False
        if self.rate_limited:
            try:
                rate_limit_check(entry.server_id)
            except RateLimited:
                return False  # Django counts it too and answers the 429
        self._record_seen(req, entry, now)
        listing = None
        if req.wait > 0 and (req.match or "").strip() != "*":
            loop = asyncio.get_running_loop()
            deadline = loop.time() + req.wait
            consumed: list[dict] = []
            outcome = await self._hold(req, entry, deadline, receive, consumed)
            if outcome == "gone":
                return True  # the client left; nothing to answer
            if outcome is None:
                # Woken polls Django must answer (a back-off ended, a take-over, SQLite) go
                # a few at a time: a thousand at once would exhaust its connection pool
                # (500s); queued here they cost no thread and no connection meanwhile.
                async with self._woken_slots():
                    remaining = max(0, int(deadline - loop.time()))
                    await self.app(_with_wait(scope, remaining), _replay(receive, consumed),
                                   send)
                return True
            entry, verdict, listing = outcome
        elif verdict == "list":
            listing = await self._take(req, entry)
        await self._answer(req, entry, verdict, send, listing)
        return True

    async def _hold(self, req: _Request, entry: agentcache.Entry, deadline: float,
                    receive, consumed: list[dict]):
        """Wait for a change or the deadline. Returns (entry, verdict, listing) to answer here,
        "gone" when the client disconnected, None when Django must answer (``consumed``:
        the messages read from ``receive`` meanwhile, for Django to read again)."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        while True:  # a GET's (empty) body; after it only a disconnect can come
            message = await receive()
            consumed.append(message)
            if message["type"] == "http.disconnect":
                return "gone"
            if message.get("body"):
                return None  # a GET with a body: Django judges it
            if not message.get("more_body"):
                break
        disconnect = asyncio.ensure_future(receive())
        try:
            with _registered(entry.server_id, loop, event):
                while True:
                    current = agentcache.get(req.digest)
                    if current is None:
                        current = await self._entry(req)
                    verdict = None if current is None else self._judge(req, current,
                                                                       time.time())
                    if verdict is None:
                        return None
                    listing = None
                    if verdict == "list":
                        listing = await self._take(req, current)
                        # As the Django view: an empty list answers a poll that named an
                        # ETag (its list did change); one that named none keeps waiting.
                        if listing.rows or req.match is not None:
                            return current, verdict, listing
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        return current, verdict, listing
                    waiter = asyncio.ensure_future(event.wait())
                    done, _ = await asyncio.wait({waiter, disconnect}, timeout=remaining,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                    if disconnect in done:
                        consumed.append(disconnect.result())
                        return "gone"
                    event.clear()
        finally:
            if not disconnect.done():
                disconnect.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await disconnect

    async def _answer(self, req: _Request, entry: agentcache.Entry, verdict: str,
                      send, listing: Taken | None = None) -> None:
        etag = f'"q{entry.server_id}-{entry.version}-{req.limit}"'.encode()
        if verdict == "304":
            status, body = 304, b""
            content_type = b"text/html; charset=utf-8"  # what Django's HttpResponse says
        else:
            status = 200
            commands = [] if listing is None else _commands(listing, req.owner)
            more = False if listing is None else listing.more
            body = json.dumps({"commands": commands, "meta": {
                "count": len(commands), "more": more, "next_poll_seconds": entry.poll_seconds,
                "server_time": iso(datetime.now(UTC))}}).encode()
            content_type = b"application/json; charset=utf-8"
        first = [(b"Content-Type", content_type), (b"ETag", etag),
                 (b"Cache-Control", b"no-store")]
        STATS["memory"] += 1
        (POLLS_MEMORY_304 if status == 304 else POLLS_LEAN_LIST if listing is not None
         else POLLS_MEMORY_200).inc()
        await send({"type": "http.response.start", "status": status,
                    "headers": self.site.headers(req, first, len(body))})
        await send({"type": "http.response.body", "body": body})

    # -- SQLite: no cross-process signal, so compare the cache with the file every second ------

    async def _watch_sqlite(self) -> None:
        while True:
            try:
                await asyncio.sleep(WATCH_SECONDS)
                cached = agentcache.cached()
                if cached:
                    rows = await self.db.fingerprints(sorted({e.server_id for _, e in cached}))
                    by_id = {row[0]: row for row in rows}
                    stale = {e.server_id for digest, e in cached
                             if _changed(by_id.get(e.server_id), digest, e)}
                    if stale:
                        wakeup.wake_local(stale)
                agentcache.beat()
            except asyncio.CancelledError:
                agentcache.channel_down()
                raise
            except Exception:
                logger.warning("agent cache watcher failed; retrying", exc_info=True)


def _commands(listing: Taken, owner: str) -> list[dict]:
    # An anonymous owner is unique to this poll, so it is told when its lease ends (as in
    # agent.due_commands); an instance's leases are its own business.
    anonymous = owner.startswith("anon:")
    commands = []
    for (cid, kind, text, values, online, name, uuid, steam_id, order_id, number, item_id,
         item_product_id, item_product_name, product_id, product_name, origin, attempts,
         created, repeat, delay, until) in listing.rows:
        # As agent._product_json: the order item's snapshot, else a manual delivery's product.
        product = ({"id": item_product_id, "name": item_product_name} if item_id
                   else {"id": product_id, "name": product_name} if product_id else None)
        commands.append(command_payload(
            id=cid, type=kind, command=text, placeholders=values, require_online=online,
            player_name=name, player_uuid=uuid, player_steam_id=steam_id,
            order={"id": order_id, "order_number": number} if order_id else None,
            product=product, origin=origin, attempt_count=attempts, created_at=created,
            safe_to_repeat=repeat, delay_after_join=delay,
            lease_until=until if anonymous else None))
    return commands


def _changed(row: tuple | None, digest: str, entry: agentcache.Entry) -> bool:
    if row is None:
        return True
    _sid, secret_hash, version, retry_due, holder, removed_at, store_hash, poll = row
    return (secret_hash != digest or removed_at is not None or int(version) != entry.version
            or epoch(retry_due) != entry.retry_due or (holder or "") != entry.holder
            or (store_hash or "") != entry.store_hash or int(poll) != entry.poll_seconds)


@contextlib.contextmanager
def _registered(server_id: int, loop, event: asyncio.Event):
    with wakeup._lock:
        wakeup._waiters.setdefault(server_id, set()).add((loop, event))
    HELD.inc()
    try:
        yield
    finally:
        HELD.dec()
        with wakeup._lock:
            waiting = wakeup._waiters.get(server_id)
            if waiting is not None:
                waiting.discard((loop, event))
                if not waiting:
                    del wakeup._waiters[server_id]


def _with_wait(scope, wait: int):
    pairs = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                          keep_blank_values=True) if k != "wait"]
    pairs.append(("wait", str(wait)))
    query = "&".join(f"{k}={v}" for k, v in pairs).encode()
    return {**scope, "query_string": query}


def _replay(receive, consumed: list[dict]):
    """Django reads the request again: first what the hold already read, then the socket."""
    pending = list(consumed)

    async def replayed():
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
