"""The agent API (seed 001 paths and headers; docs/agent-api.md is the contract).

Authentication runs before the body is read and before any other check: ``X-Store-Secret``
+ ``X-Server-Secret`` name the server (the two headers of seed 001 are enough); the optional
``X-Agent-Instance`` names the installation, for the one-agent-per-server rule. The per-server
rate limit is applied there too.
"""


import asyncio
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from shopkeep.core.errors import ServiceError
from shopkeep.core.timefmt import iso
from shopkeep.delivery import agent
from shopkeep.delivery.models import GameServer
from shopkeep.delivery.wakeup import Waiter

router = Router(tags=["agent"])

_HEADER_DOCS = {"parameters": [
    {"in": "header", "name": "X-Store-Secret", "required": True, "schema": {"type": "string"},
     "description": "The store's secret (sks_...)"},
    {"in": "header", "name": "X-Server-Secret", "required": True, "schema": {"type": "string"},
     "description": "This game server's secret (srv_...)"},
    {"in": "header", "name": "X-Agent-Instance", "required": False,
     "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
     "description": "Optional: the agent installation's id, kept across restarts (enables "
                    "the one-agent-per-server rule; without it each command is leased to the "
                    "poll that received it)"},
]}


class RateLimited(ServiceError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited", "Too many requests for this server; slow down.")
        self.retry_after = retry_after


class AgentContext:
    __slots__ = ("instance", "max_attempts", "owner", "poll_seconds", "server")

    def __init__(self, server: GameServer, instance: str) -> None:
        self.server = server
        self.instance = instance
        # Whom this request's commands are leased to.
        self.owner = instance or agent.anonymous_owner()
        # Loaded with the server by agent.authenticate (select_related): no extra query.
        key = server.store.agent_key
        self.max_attempts = key.max_attempts
        self.poll_seconds = key.poll_seconds

    def __bool__(self) -> bool:
        return True


def _rate_limit(server: GameServer) -> None:
    rate_limit_check(server.pk)


def rate_limit_check(server_id: int) -> None:
    """Count one request against the server's per-minute budget (the lean path in
    fastpath.py counts through this too, so a request is counted once either way)."""
    limit = settings.SHOPKEEP_AGENT_RATE_LIMIT
    if limit <= 0:
        return
    window = int(time.time() // 60)
    key = f"agent-rl:{server_id}:{window}"
    cache.add(key, 0, 70)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 70)
        count = 1
    if count > limit:
        raise RateLimited(retry_after=max(1, 60 - int(time.time()) % 60))


def agent_auth(request: HttpRequest) -> AgentContext:
    # Secrets first: a caller with wrong secrets learns nothing else (not even that its
    # instance id is malformed).
    server = agent.authenticate(store_secret=request.headers.get("X-Store-Secret", ""),
                                server_secret=request.headers.get("X-Server-Secret", ""))
    instance = agent.check_instance(request.headers.get("X-Agent-Instance"))
    _rate_limit(server)
    agent.claim(server=server, instance=instance)
    return AgentContext(server, instance)


def _release_connection() -> None:
    """A long-poll must not hold a database connection while it waits."""
    if not connection.in_atomic_block:
        close_old_connections()
        connection.close()


def _authorize_and_poll(request: HttpRequest, limit: int, if_none_match: str | None,
                        release: bool) -> tuple[AgentContext, str, list[dict] | None, bool]:
    """The first look, in one thread hop: an idle agent's poll costs one trip to a worker
    thread and two small queries (the server with its store key, the queue version)."""
    ctx = agent_auth(request)
    return (ctx, *_poll_once(ctx, limit, if_none_match, release, ctx.server))


def _poll_once(ctx: AgentContext, limit: int, if_none_match: str | None, release: bool,
               loaded: GameServer | None = None) -> tuple[str, list[dict] | None, bool]:
    server_id = ctx.server.pk
    try:
        snap = agent.snapshot(server_id=server_id, loaded=loaded)
        etag = snap.etag(server_id, limit)
        if agent.etag_matches(if_none_match, etag):
            return etag, None, False
        commands, more = agent.due_commands(server_id=server_id, limit=limit, owner=ctx.owner)
        return etag, commands, more
    finally:
        if release:
            _release_connection()


@router.get("/commands/pending", openapi_extra=_HEADER_DOCS,
            summary="Commands due on this server (long-poll with ?wait=, 304 with ETag)")
async def pending(request: HttpRequest, limit: int = Query(100, ge=1, le=500),
                  wait: int = Query(0, ge=0, le=30)) -> HttpResponse:
    # Authenticated inside the view (not by the route's auth) to save a thread hop on the
    # path every idle agent takes; the same agent_auth runs either way.
    if_none_match = request.headers.get("If-None-Match")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    ctx, etag, commands, more = await sync_to_async(_authorize_and_poll)(
        request, limit, if_none_match, wait > 0)
    # "*" matches every list (RFC 9110), so nothing can change it: answer without holding.
    hold = wait > 0 and (if_none_match or "").strip() != "*"
    if hold and _nothing_new(commands, if_none_match):
        with Waiter(ctx.server.pk) as waiter:
            while True:
                # Registered before this re-read, so a command queued meanwhile still wakes us.
                remaining = deadline - loop.time()
                etag, commands, more = await sync_to_async(_poll_once)(
                    ctx, limit, if_none_match, remaining > 0)
                if not _nothing_new(commands, if_none_match) or remaining <= 0:
                    break
                await waiter.wait(remaining)
    if commands is None:
        response = HttpResponse(status=304)
    else:
        response = request_json(request, {"commands": commands, "meta": {
            "count": len(commands), "more": more, "next_poll_seconds": ctx.poll_seconds,
            "server_time": iso(timezone.now())}})
    response["ETag"] = etag
    response["Cache-Control"] = "no-store"
    return response


def _nothing_new(commands: list[dict] | None, if_none_match: str | None) -> bool:
    return commands is None or (not commands and not if_none_match)


def request_json(request: HttpRequest, body: dict, status: int = 200) -> HttpResponse:
    from shopkeep.api import api

    return api.create_response(request, body, status=status)


class ConfirmIn(Schema):
    output: str = Field("", max_length=65_536)


class CommandAnswer(Schema):
    id: int
    status: str
    changed: bool


class FailIn(Schema):
    error: str = Field(..., min_length=1, max_length=65_536)
    error_code: str = Field("", max_length=64)
    retryable: bool = True
    attempt: int | None = Field(None, ge=1, le=10_000)


class BatchIn(Schema):
    ids: list[int] = Field(..., min_length=1, max_length=500)
    output: dict[str, str] = Field(default_factory=dict)


class HeartbeatPlayer(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    uuid: str | None = Field(None, max_length=64)
    steam_id: str | None = Field(None, max_length=32)


class HeartbeatIn(Schema):
    agent_version: str = Field("", max_length=32)
    instance_id: str = Field("", max_length=64)
    players: list[HeartbeatPlayer] = Field(default_factory=list, max_length=1000)


def _confirm(ctx: AgentContext, command_id: int, output: str) -> dict:
    return agent.confirm(server=ctx.server, command_id=command_id, output=output,
                         instance=ctx.instance)


@router.post("/commands/confirm", auth=agent_auth, openapi_extra=_HEADER_DOCS,
             summary="Confirm several executed commands at once")
def confirm_batch(request: HttpRequest, payload: BatchIn) -> dict:
    results = []
    for command_id in dict.fromkeys(payload.ids):  # keeps order, drops repeats
        try:
            results.append(_confirm(request.auth, command_id,
                                    payload.output.get(str(command_id), "")))
        except ServiceError as exc:
            results.append({"id": command_id, "error": {"code": exc.code,
                                                        "message": exc.message}})
        except agent.NotFound:
            results.append({"id": command_id, "error": {"code": "not_found",
                                                        "message": "Not found."}})
    return {"results": results}


@router.post("/commands/{command_id}/confirm", auth=agent_auth, response=CommandAnswer,
             openapi_extra=_HEADER_DOCS, summary="The command ran (idempotent)")
def confirm(request: HttpRequest, command_id: int, payload: ConfirmIn | None = None) -> dict:
    return _confirm(request.auth, command_id, payload.output if payload else "")


@router.post("/commands/{command_id}/fail", auth=agent_auth, response=CommandAnswer,
             openapi_extra=_HEADER_DOCS, summary="The command failed (idempotent)")
def fail(request: HttpRequest, command_id: int, payload: FailIn) -> dict:
    ctx: AgentContext = request.auth
    return agent.fail(server=ctx.server, command_id=command_id, error=payload.error,
                      error_code=payload.error_code, retryable=payload.retryable,
                      attempt=payload.attempt, instance=ctx.instance,
                      max_attempts=ctx.max_attempts)


@router.post("/heartbeat", auth=agent_auth, openapi_extra=_HEADER_DOCS,
             summary="Agent version and online players, every 2 minutes")
def heartbeat(request: HttpRequest, payload: HeartbeatIn) -> dict:
    ctx: AgentContext = request.auth
    agent.heartbeat(server=ctx.server, agent_version=payload.agent_version,
                    players=[p.dict() for p in payload.players])
    return agent.heartbeat_answer()
