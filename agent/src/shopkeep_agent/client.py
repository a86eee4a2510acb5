"""The platform's agent API (docs/agent-api.md), over the standard library's http.client.

Each request runs in its own daemon thread so the asyncio loop stays free for the game
adapter and a SIGTERM during a 30-second long-poll can exit without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import __version__


class ApiError(Exception):
    """An answer the agent must act on; ``status`` 0 means no answer (network)."""

    def __init__(self, status: int, code: str, message: str,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" if status else message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Network trouble, 5xx and 429: back off and try again."""
        return self.status == 0 or self.status == 429 or self.status >= 500

    @property
    def auth(self) -> bool:
        return self.status in (401, 403) or self.code == "invalid_agent_instance"

    @property
    def duplicate_agent(self) -> bool:
        return self.status == 409 and self.code == "duplicate_agent"


@dataclass
class Pending:
    status: int                        # 200 or 304
    commands: list[dict[str, Any]]
    meta: dict[str, Any]
    etag: str | None


class PlatformClient:
    def __init__(self, *, url: str, store_secret: str, server_secret: str, instance_id: str,
                 ca_file: str | None = None, timeout: float = 20.0) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.instance_id = instance_id
        self._ssl = ssl.create_default_context(cafile=ca_file) if self.scheme == "https" else None
        self._headers = {
            "X-Store-Secret": store_secret,
            "X-Server-Secret": server_secret,
            "X-Agent-Instance": instance_id,
            "X-Agent-Version": __version__,
            "User-Agent": f"shopkeep-agent/{__version__}",
            "Accept": "application/json",
        }

    # -- transport ---------------------------------------------------------------------
    def request(self, method: str, path: str, *, body: Any = None,
                headers: dict[str, str] | None = None,
                timeout: float | None = None) -> tuple[int, dict[str, str], Any]:
        """Blocking request; returns (status, headers, parsed JSON or None). Raises ApiError
        for anything but 2xx and 304."""
        conn: http.client.HTTPConnection
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(self.host, self.port, context=self._ssl,
                                               timeout=timeout or self.timeout)
        else:
            conn = http.client.HTTPConnection(self.host, self.port,
                                              timeout=timeout or self.timeout)
        all_headers = dict(self._headers)
        all_headers.update(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            conn.request(method, self.prefix + path, body=payload, headers=all_headers)
            response = conn.getresponse()
            raw = response.read()
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(0, "network", f"cannot reach {self.host}: {exc}") from None
        finally:
            conn.close()
        data: Any = None
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
        if status == 304 or 200 <= status < 300:
            return status, answer_headers, data
        error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
        code = error.get("code", "") if isinstance(error, dict) else ""
        message = error.get("message", "") if isinstance(error, dict) else ""
        raise ApiError(status, code or f"http_{status}", message or http.client.responses.get(
            status, "error"), retry_after=_retry_after(answer_headers.get("retry-after")))

    async def call(self, method: str, path: str, **kwargs: Any):
        """``request`` on a daemon thread: cancelling the await abandons the thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def work() -> None:
            try:
                outcome = (self.request(method, path, **kwargs), None)
            except BaseException as exc:
                outcome = (None, exc)
            # RuntimeError: the loop is gone (the agent stopped during a long-poll).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, *outcome)

        threading.Thread(target=work, name="shopkeep-agent-http", daemon=True).start()
        return await future

    # -- the agent API -----------------------------------------------------------------
    async def pending(self, *, wait: int = 0, etag: str | None = None,
                      limit: int = 100) -> Pending:
        query = {"limit": limit}
        if wait:
            query["wait"] = wait
        headers = {"If-None-Match": etag} if etag else {}
        status, answer_headers, data = await self.call(
            "GET", "/api/v1/agent/commands/pending?" + urlencode(query), headers=headers,
            timeout=self.timeout + wait)
        if status == 304:
            return Pending(304, [], {}, etag)
        if not isinstance(data, dict) or not isinstance(data.get("commands"), list):
            raise ApiError(502, "bad_response", "the platform answered without a command list")
        return Pending(200, data["commands"], data.get("meta") or {},
                       answer_headers.get("etag"))

    async def confirm(self, command_id: int, output: str) -> dict[str, Any]:
        _, _, data = await self.call("POST", f"/api/v1/agent/commands/{int(command_id)}/confirm",
                                     body={"output": output})
        return data or {}

    async def confirm_many(self, outputs: dict[int, str]) -> list[dict[str, Any]]:
        _, _, data = await self.call("POST", "/api/v1/agent/commands/confirm", body={
            "ids": list(outputs), "output": {str(k): v for k, v in outputs.items()}})
        return list((data or {}).get("results", []))

    async def fail(self, command_id: int, *, error: str, error_code: str, retryable: bool,
                   attempt: int) -> dict[str, Any]:
        _, _, data = await self.call("POST", f"/api/v1/agent/commands/{int(command_id)}/fail",
                                     body={"error": error or error_code, "error_code": error_code,
                                           "retryable": retryable, "attempt": attempt})
        return data or {}

    async def heartbeat(self, players: Sequence[dict[str, Any]]) -> dict[str, Any]:
        _, _, data = await self.call("POST", "/api/v1/agent/heartbeat", body={
            "agent_version": __version__, "instance_id": self.instance_id,
            "players": list(players)[:1000]})
        return data or {}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # the HTTP-date form is not used by the platform
