"""Discord's REST API, the few routes Shopkeep calls, with Discord's rate limits honoured.

Discord answers every request with bucket headers (``X-RateLimit-Bucket``, ``-Limit``,
``-Remaining``, ``-Reset-After``): a bucket is shared by routes with the same hash and the same
top-level resource (the guild). When ``Remaining`` reaches 0 we wait ``Reset-After`` before
the next request on that bucket instead of earning a 429. A 429 carries ``retry_after``
(seconds, in the JSON body and the ``Retry-After`` header) and ``global: true`` when the whole
bot is limited; a short wait is slept here, a long one is raised as ``RateLimited`` so the
caller reschedules the work without spending an attempt.

The limiters live in the process, one per bot token (Discord counts per bot): the worker's
commands for one store share it. The base URL is the operator's
(``SHOPKEEP_DISCORD_API_BASE``), never a store's, so the requests go through plain httpx with
timeouts rather than the SSRF-guarded client.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

USER_AGENT = "DiscordBot (https://github.com/shopkeep/shopkeep, 1.0) Shopkeep"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_SLEEP = 5.0  # waits longer than this are handed back to the caller (RateLimited)
MAX_429_RETRIES = 3

# Permission bits (discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_ROLES = 1 << 28


class DiscordError(Exception):
    """Discord refused: ``status`` is the HTTP status, ``code`` Discord's JSON error code
    (0 when the body had none, e.g. a 401 or a 5xx)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class RateLimited(Exception):
    def __init__(self, retry_after: float, is_global: bool) -> None:
        super().__init__(f"rate limited for {retry_after:.2f}s (global={is_global})")
        self.retry_after, self.is_global = retry_after, is_global


class Unreachable(Exception):
    """Network error or timeout: the request may or may not have reached Discord."""


@dataclass
class _Bucket:
    remaining: int = 1
    reset_at: float = 0.0


@dataclass
class RateLimiter:
    clock: Callable[[], float] = time.monotonic
    lock: threading.Lock = field(default_factory=threading.Lock)
    routes: dict[str, str] = field(default_factory=dict)  # route key -> bucket hash
    buckets: dict[str, _Bucket] = field(default_factory=dict)  # bucket hash:major -> state
    global_until: float = 0.0

    def wait_needed(self, route: str, major: str) -> float:
        with self.lock:
            now = self.clock()
            wait = max(self.global_until - now, 0.0)
            bucket_hash = self.routes.get(route)
            if bucket_hash is not None:
                state = self.buckets.get(f"{bucket_hash}:{major}")
                if state is not None and state.remaining <= 0 and state.reset_at > now:
                    wait = max(wait, state.reset_at - now)
            return wait

    def update(self, route: str, major: str, headers: httpx.Headers) -> None:
        bucket_hash = headers.get("x-ratelimit-bucket")
        if not bucket_hash:
            return
        try:
            remaining = int(headers.get("x-ratelimit-remaining", "1"))
            reset_after = float(headers.get("x-ratelimit-reset-after", "0"))
        except ValueError:
            return
        with self.lock:
            self.routes[route] = bucket_hash
            self.buckets[f"{bucket_hash}:{major}"] = _Bucket(
                remaining=remaining, reset_at=self.clock() + reset_after)

    def limited(self, route: str, major: str, retry_after: float, is_global: bool) -> None:
        with self.lock:
            until = self.clock() + retry_after
            if is_global:
                self.global_until = max(self.global_until, until)
            else:
                bucket_hash = self.routes.get(route, route)
                self.routes[route] = bucket_hash
                self.buckets[f"{bucket_hash}:{major}"] = _Bucket(remaining=0, reset_at=until)


# One limiter per bot token: Discord counts buckets and the global limit per bot, so one
# store's busy bot never holds back another store's.
_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(token: str) -> RateLimiter:
    key = hashlib.sha256(token.encode()).hexdigest()
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault(key, RateLimiter())


def forget_limiters() -> None:
    with _LIMITERS_LOCK:
        _LIMITERS.clear()


def api_base() -> str:
    return settings.DISCORD_API_BASE


class DiscordClient:
    """One bot token's view of Discord. ``sleep`` is injectable so tests can record waits."""

    def __init__(self, token: str, *, base: str | None = None,
                 limiter: RateLimiter | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 http: httpx.Client | None = None) -> None:
        self.token = token
        self.base = (base or api_base()).rstrip("/")
        self.limiter = limiter or limiter_for(token)
        self.sleep = sleep
        self.http = http or httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> DiscordClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the routes ---------------------------------------------------------------------------

    def me(self) -> dict:
        return self._call("GET", "/users/@me", route="/users/@me")

    def application(self) -> dict:
        return self._call("GET", "/applications/@me", route="/applications/@me")

    def guild(self, guild_id: str) -> dict:
        return self._call("GET", f"/guilds/{_id(guild_id)}", route="/guilds/{g}", major=guild_id)

    def roles(self, guild_id: str) -> list[dict]:
        return self._call("GET", f"/guilds/{_id(guild_id)}/roles", route="/guilds/{g}/roles",
                          major=guild_id)

    def member(self, guild_id: str, user_id: str) -> dict:
        return self._call("GET", f"/guilds/{_id(guild_id)}/members/{_id(user_id)}",
                          route="/guilds/{g}/members/{u}", major=guild_id)

    def add_role(self, guild_id: str, user_id: str, role_id: str, *, reason: str) -> None:
        self._call("PUT", _member_role(guild_id, user_id, role_id),
                   route="/guilds/{g}/members/{u}/roles/{r}", major=guild_id, reason=reason)

    def remove_role(self, guild_id: str, user_id: str, role_id: str, *, reason: str) -> None:
        self._call("DELETE", _member_role(guild_id, user_id, role_id),
                   route="/guilds/{g}/members/{u}/roles/{r}", major=guild_id, reason=reason)

    def guild_commands(self, application_id: str, guild_id: str) -> list[dict]:
        return self._call("GET", _commands(application_id, guild_id),
                          route="/applications/{a}/guilds/{g}/commands", major=guild_id)

    def create_guild_command(self, application_id: str, guild_id: str, command: dict) -> dict:
        # POST upserts by name: registering twice keeps one command.
        return self._call("POST", _commands(application_id, guild_id), json=command,
                          route="/applications/{a}/guilds/{g}/commands", major=guild_id)

    def followup(self, application_id: str, interaction_token: str, message: dict) -> dict:
        """A follow-up message to an interaction (its token authenticates it)."""
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,500}", interaction_token):
            raise DiscordError(400, 50027, "Invalid interaction token")
        return self._call("POST", f"/webhooks/{_id(application_id)}/{interaction_token}",
                          json=message, route="/webhooks/{a}/{t}", major=interaction_token)

    # -- transport ----------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, route: str, major: str = "",
              json: Any = None, reason: str = "") -> Any:
        key = f"{method} {route}"
        headers = {"Authorization": f"Bot {self.token}"}
        if reason:
            # The audit-log reason is a header, URL-encoded (it may hold any text).
            headers["X-Audit-Log-Reason"] = quote(reason[:512], safe=" ")
        for _ in range(MAX_429_RETRIES + 1):
            self._wait(self.limiter.wait_needed(key, major))
            try:
                response = self.http.request(method, self.base + path, headers=headers,
                                             json=json)
            except httpx.HTTPError as exc:
                raise Unreachable(f"{type(exc).__name__}: {exc}") from None
            self.limiter.update(key, major, response.headers)
            if response.status_code == 429:
                retry_after, is_global = _retry_after(response)
                self.limiter.limited(key, major, retry_after, is_global)
                continue  # the next loop turn waits (or hands the wait back)
            if response.status_code >= 400:
                raise _error(response)
            if response.status_code == 204 or not response.content:
                return None
            return response.json()
        raise RateLimited(self.limiter.wait_needed(key, major) or 1.0, False)

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if seconds > MAX_SLEEP:
            raise RateLimited(seconds, self.limiter.global_until > self.limiter.clock())
        self.sleep(seconds)


def _id(value: str) -> str:
    """Snowflakes only: a stored id can never steer the request to another route."""
    if not value.isdigit() or not 15 <= len(value) <= 21:
        raise DiscordError(400, 50035, f"Invalid id {value!r}")
    return value


def _member_role(guild_id: str, user_id: str, role_id: str) -> str:
    return f"/guilds/{_id(guild_id)}/members/{_id(user_id)}/roles/{_id(role_id)}"


def _commands(application_id: str, guild_id: str) -> str:
    return f"/applications/{_id(application_id)}/guilds/{_id(guild_id)}/commands"


def _retry_after(response: httpx.Response) -> tuple[float, bool]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    value = body.get("retry_after") if isinstance(body, dict) else None
    if value is None:
        value = response.headers.get("retry-after", "1")
    try:
        seconds = max(float(value), 0.0)
    except (TypeError, ValueError):
        seconds = 1.0
    is_global = bool(isinstance(body, dict) and body.get("global")) or \
        response.headers.get("x-ratelimit-global", "").lower() == "true"
    return seconds, is_global


def _error(response: httpx.Response) -> DiscordError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("code") if isinstance(body.get("code"), int) else 0
    message = str(body.get("message") or response.reason_phrase or "error")[:300]
    return DiscordError(response.status_code, code, message)


def has_manage_roles(permissions: int) -> bool:
    return bool(permissions & (ADMINISTRATOR | MANAGE_ROLES))
