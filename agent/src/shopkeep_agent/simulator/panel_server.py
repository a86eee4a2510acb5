"""A local fake of the Pterodactyl / Pelican client API, enough for the panel adapter:
``GET /api/client/servers/{id}/resources`` and ``POST /api/client/servers/{id}/command``
with a client API key, answering with the panel's own status codes and JSON error shape
(``{"errors": [{"code", "status", "detail"}]}``): 204 sent, 502 server not running, 401
bad key, 404 unknown server, 422 missing command, 429 over the rate limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Callable

_PATH = re.compile(r"^/api/client/servers/([A-Za-z0-9-]+)/(resources|command)$")
MAX_BODY = 64 * 1024


def _error(status: int, code: str, detail: str) -> tuple[int, dict]:
    return status, {"errors": [{"code": code, "status": str(status), "detail": detail}]}


class PanelServer:
    def __init__(self, *, api_key: str, server_id: str, run_command: Callable[[str], str],
                 host: str = "127.0.0.1", port: int = 0, rate_limit: int = 240) -> None:
        self.api_key, self.server_id = api_key, server_id
        self.run_command = run_command
        self.host, self._port = host, port
        self.state = "running"
        self.rate_limit = rate_limit
        self.requests: list[tuple[str, str, int]] = []
        self.server: asyncio.AbstractServer | None = None
        self.hang = False  # tests: accept the command, then never answer
        self._recent: list[float] = []

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, self.host, self._port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict | None]:
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "AuthenticationException", "Unauthenticated.")
        if "application/json" not in headers.get("accept", ""):
            return _error(406, "NotAcceptableHttpException", "Accept: application/json.")
        match = _PATH.match(path)
        if match is None or match.group(1) != self.server_id:
            return _error(404, "NotFoundHttpException",
                          "The requested resource could not be found on the server.")
        now = time.monotonic()
        self._recent = [t for t in self._recent if now - t < 60] + [now]
        if len(self._recent) > self.rate_limit:  # per key and minute, like the panel
            return _error(429, "TooManyRequestsHttpException", "Too Many Attempts.")
        if match.group(2) == "resources" and method == "GET":
            return 200, {"object": "stats", "attributes": {
                "current_state": self.state, "is_suspended": False,
                "resources": {"memory_bytes": 1, "cpu_absolute": 0.0, "disk_bytes": 1,
                              "network_rx_bytes": 0, "network_tx_bytes": 0}}}
        if match.group(2) == "command" and method == "POST":
            try:
                command = json.loads(body or b"{}").get("command")
            except (ValueError, AttributeError):
                command = None
            if not isinstance(command, str) or not command:
                return _error(422, "ValidationException", "The command field is required.")
            if self.state != "running":
                return _error(502, "HttpException",
                              "Server must be online in order to send commands.")
            self.run_command(command)
            return 204, None
        return _error(405, "MethodNotAllowedHttpException", "Method not allowed.")

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if length > MAX_BODY:
                status, payload = _error(413, "PayloadTooLarge", "Too large.")
            else:
                body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
                status, payload = self.handle(method, path, headers, body)
            self.requests.append((method, path, status))
            if self.hang and status == 204:
                await asyncio.sleep(3600)
            data = b"" if payload is None else json.dumps(payload).encode()
            reason = {200: "OK", 204: "No Content"}.get(status, "Error")
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                         + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                asyncio.TimeoutError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
