"""Rust WebRCON client: JSON over a websocket at ``ws://host:port/<password>``.

Requests are ``{"Identifier": n, "Message": command, "Name": "WebRcon"}``; the server answers
with the same Identifier. It also pushes console output, chat and joins to every client with
Identifier 0 or -1, so replies are matched by Identifier and everything else is ignored.
Rust refuses a wrong password without any HTTP answer (it writes a bare websocket close frame
and hangs up); the handshake then fails, which we report as RCON_AUTH_FAILED.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from ._compat import TIMEOUTS
from .base import (
    Adapter,
    AdapterAuthError,
    AdapterError,
    AdapterTimeout,
    Player,
    Result,
    setting_port,
    setting_str,
    setting_timeout,
)
from .games import DEFAULT_SEPARATORS, RUST_ERRORS

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_MAX_ID = 2**31 - 1


def _websockets() -> Any:
    try:
        import websockets.asyncio.client
        import websockets.exceptions
    except ImportError:  # pragma: no cover - depends on the install
        raise AdapterError(
            "the webrcon adapter needs the 'websockets' package (pip install 'websockets>=13')"
        ) from None
    return websockets


class WebRconAdapter(Adapter):
    name = "webrcon"
    separators = DEFAULT_SEPARATORS

    def __init__(
        self,
        *,
        host: str,
        port: int,
        password: str,
        timeout: float = 5.0,
        error_patterns: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._password = password
        self.timeout = timeout
        self.errors = RUST_ERRORS.extended(error_patterns)
        self._ws: Any = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_id = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> WebRconAdapter:
        password = setting_str(settings, "password")
        if not password:
            raise ValueError("webrcon: setting 'password' must not be empty")
        return cls(
            host=setting_str(settings, "host", "127.0.0.1"),
            port=setting_port(settings),
            password=password,
            timeout=setting_timeout(settings),
            error_patterns=settings.get("error_patterns"),
        )

    @property
    def _where(self) -> str:
        return f"WebRCON {self.host}:{self.port}"

    def _lock_for_this_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock = asyncio.Lock()
            self._loop = loop
            self._ws = None
        return self._lock

    def _open(self) -> bool:
        if self._ws is None:
            return False
        from websockets.protocol import State

        return self._ws.state is State.OPEN

    async def connect(self) -> None:
        async with self._lock_for_this_loop():
            await self._ensure_connected()

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and self._loop is asyncio.get_running_loop():
            try:
                await asyncio.wait_for(ws.close(), 2)
            except (OSError, *TIMEOUTS):
                pass

    async def _ensure_connected(self) -> None:
        if self._open():
            return
        await self.close()
        websockets = _websockets()
        errors = websockets.exceptions
        uri = f"ws://{self.host}:{self.port}/{quote(self._password, safe='')}"
        try:
            self._ws = await websockets.asyncio.client.connect(
                uri,
                open_timeout=self.timeout,
                close_timeout=1,
                # Replies are matched by Identifier within our own timeout; websocket pings
                # would only add a second, unrelated way to declare the game dead.
                ping_interval=None,
                max_size=MAX_MESSAGE_BYTES,
                compression=None,
            )
        except TIMEOUTS:
            raise AdapterTimeout(
                f"{self._where}: no connection within {self.timeout:g} s"
            ) from None
        except errors.InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AdapterAuthError(
                    f"{self._where}: wrong RCON password (HTTP {status})"
                ) from None
            raise AdapterError(f"{self._where}: websocket refused with HTTP {status}") from None
        except errors.InvalidHandshake as exc:
            # What a Rust server does for a wrong password: a bare close frame, no HTTP.
            raise AdapterAuthError(
                f"{self._where}: the server refused the websocket handshake ({exc}); wrong "
                "RCON password, or not a WebRCON port"
            ) from None
        except OSError as exc:
            raise AdapterError(f"{self._where}: cannot connect: {exc.strerror or exc}") from None

    def _new_id(self) -> int:
        self._last_id = self._last_id + 1 if self._last_id < _MAX_ID else 1
        return self._last_id

    async def execute(self, command: str) -> Result:
        async with self._lock_for_this_loop():
            message = await self._exchange(command)
        return self.errors.classify(message)

    async def _exchange(self, command: str) -> str:
        errors = _websockets().exceptions
        identifier = self._new_id()
        request = json.dumps({"Identifier": identifier, "Message": command, "Name": "WebRcon"})
        for attempt in (1, 2):
            await self._ensure_connected()
            try:
                await self._ws.send(request)
                break
            except errors.ConnectionClosed:
                # send() refuses before writing anything once the socket is closed, so the
                # command has not left: reconnect and send it once more.
                self._ws = None
                if attempt == 2:
                    raise AdapterError(f"{self._where}: connection closed before sending") from None
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                frame = await asyncio.wait_for(self._ws.recv(), max(0.0, remaining))
            except TIMEOUTS:
                await self.close()
                raise AdapterTimeout(
                    f"{self._where}: no answer within {self.timeout:g} s", command_sent=True
                ) from None
            except errors.ConnectionClosed:
                self._ws = None
                raise AdapterError(
                    f"{self._where}: the server closed the connection while we waited for "
                    "the answer",
                    command_sent=True,
                ) from None
            reply = _parse(frame)
            if reply is not None and reply.get("Identifier") == identifier:
                message = reply.get("Message", "")
                return message if isinstance(message, str) else json.dumps(message)
            # Anything else is a broadcast (Identifier 0/-1) or a late answer to an earlier
            # request that timed out.

    async def players(self) -> list[Player]:
        result = await self.execute("playerlist")
        if not result.ok:
            raise AdapterError(f"{self._where}: 'playerlist' failed: {result.output.strip()}")
        try:
            rows = json.loads(result.output)
        except ValueError:
            raise AdapterError(f"{self._where}: 'playerlist' did not answer JSON") from None
        if not isinstance(rows, list):
            raise AdapterError(f"{self._where}: 'playerlist' did not answer a JSON list")
        players = []
        for row in rows:
            if isinstance(row, dict) and row.get("DisplayName") is not None:
                steam_id = row.get("SteamID")
                players.append(
                    Player(
                        name=str(row["DisplayName"]), steam_id=str(steam_id) if steam_id else None
                    )
                )
        return players


def _parse(frame: str | bytes) -> dict[str, Any] | None:
    try:
        reply = json.loads(frame)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None
