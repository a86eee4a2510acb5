"""Quake-style UDP rcon: FiveM and RedM (and Quake 3 engine games), one datagram
``\\xff\\xff\\xff\\xffrcon <password> <command>``, answered by one or more datagrams
``\\xff\\xff\\xff\\xffprint <text>``.

The protocol has no end-of-answer marker and no sequence numbers, so the answer is what
arrives until the server has been quiet for ``quiet_ms`` (bounded by ``timeout`` and a size
cap, so a flood ends too). A command is never sent twice: UDP gives no receipt, so a
command with no answer at all may have run. FiveM's players come from its own
``/players.json`` on the same port (TCP); Quake 3 lists them with ``status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import re
import time
from collections.abc import Mapping
from typing import Any

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
from .games import ErrorPatterns, _patterns

HEADER = b"\xff\xff\xff\xff"
PRINT = b"print"
MAX_ANSWER_BYTES = 1024 * 1024
MAX_PLAYERS_JSON = 2 * 1024 * 1024
STEAM64_BASE = 76561197960265728
GAMES = ("fivem", "redm", "quake3")
_BAD_PASSWORD = re.compile(r"^(?:Invalid password|Bad rcon ?password)", re.IGNORECASE)
FIVEM_ERRORS: ErrorPatterns = _patterns(
    UNKNOWN_COMMAND=[r"^No such command", r"^Unknown command"],
    PLAYER_NOT_FOUND=[r"^(?:No such player|Player not found|Invalid player)"],
    COMMAND_FAILED=[r"^(?:Error|SCRIPT ERROR)\b", r"^Usage: "],
)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1000)
        self.error: Exception | None = None

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.queue.full():
            return  # a flood: what is queued already is more than any answer
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.error = exc


class UdpRconAdapter(Adapter):
    name = "udp_rcon"
    separators = ";\n\r"

    def __init__(self, *, host: str, port: int, password: str, game: str = "fivem",
                 timeout: float = 5.0, quiet_ms: int = 150,
                 error_patterns: Mapping[str, Any] | None = None) -> None:
        if game not in GAMES:
            raise ValueError(f"udp_rcon: game must be one of {', '.join(GAMES)} (got {game!r})")
        self.host, self.port, self._password, self.game = host, port, password, game
        self.timeout = timeout
        self.quiet = quiet_ms / 1000
        self.errors = FIVEM_ERRORS.extended(error_patterns)
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Protocol | None = None
        self.dropped = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> UdpRconAdapter:
        password = setting_str(settings, "password")
        if not password or re.search(r"[\s\"\x00-\x1f]", password):
            raise ValueError("udp_rcon: setting 'password' must be non-empty, without spaces, "
                             "quotes or control characters (the protocol splits on spaces)")
        quiet = settings.get("quiet_ms", 150)
        if isinstance(quiet, bool) or not isinstance(quiet, int) or not 20 <= quiet <= 5000:
            raise ValueError("udp_rcon: setting 'quiet_ms' must be 20 to 5000")
        return cls(host=setting_str(settings, "host", "127.0.0.1"), port=setting_port(settings),
                   password=password, game=setting_str(settings, "game", "fivem"),
                   timeout=setting_timeout(settings), quiet_ms=quiet,
                   error_patterns=settings.get("error_patterns"))

    def _lock_for_this_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
            self._transport = self._protocol = None
        return self._lock

    async def connect(self) -> None:
        async with self._lock_for_this_loop():
            await self._open()

    async def _open(self) -> _Protocol:
        if self._transport is None or self._transport.is_closing() or self._protocol is None:
            try:
                self._transport, self._protocol = await asyncio.get_running_loop() \
                    .create_datagram_endpoint(_Protocol, remote_addr=(self.host, self.port))
            except OSError as exc:
                raise AdapterError(f"cannot open UDP to {self.host}:{self.port}: {exc}") from exc
        return self._protocol

    async def close(self) -> None:
        if self._transport is not None and self._loop is asyncio.get_running_loop():
            self._transport.close()
        self._transport = self._protocol = None

    async def _rcon(self, command: str, *, sent_means_unknown: bool) -> str:
        protocol = await self._open()
        while not protocol.queue.empty():  # late answers to an earlier command
            protocol.queue.get_nowait()
            self.dropped += 1
        assert self._transport is not None
        self._transport.sendto(HEADER + b"rcon " + self._password.encode() + b" " +
                               command.encode("utf-8"))
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                data = await asyncio.wait_for(protocol.queue.get(),
                                              min(left, self.quiet) if chunks else left)
            except TIMEOUTS:
                break
            if not data.startswith(HEADER + PRINT):
                self.dropped += 1  # not an rcon answer (a stray or hostile datagram)
                continue
            body = data[len(HEADER) + len(PRINT):]
            body = body[1:] if body[:1] in (b" ", b"\n") else body
            size += len(body)
            if size > MAX_ANSWER_BYTES:
                break
            chunks.append(body)
        if protocol.error is not None:
            error, protocol.error = protocol.error, None
            self._transport.close()
            raise AdapterError(f"UDP error from {self.host}:{self.port}: {error}",
                               command_sent=sent_means_unknown)
        if not chunks:
            raise AdapterTimeout(f"no rcon answer from {self.host}:{self.port} within "
                                 f"{self.timeout:g}s", command_sent=sent_means_unknown)
        text = b"".join(chunks).decode("utf-8", "replace").rstrip("\n")
        if _BAD_PASSWORD.match(text.strip()):
            raise AdapterAuthError("the server refused the rcon password")  # nothing ran
        return text

    async def execute(self, command: str) -> Result:
        async with self._lock_for_this_loop():
            output = await self._rcon(command, sent_means_unknown=True)
        return self.errors.classify(output)

    async def players(self) -> list[Player]:
        if self.game == "quake3":
            async with self._lock_for_this_loop():
                return parse_quake_status(await self._rcon("status", sent_means_unknown=False))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._players_json)

    def _players_json(self) -> list[Player]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request("GET", "/players.json", headers={"Accept": "application/json"})
            response = conn.getresponse()
            body = response.read(MAX_PLAYERS_JSON + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise AdapterError(f"players.json from {self.host}:{self.port}: {exc}") from exc
        finally:
            conn.close()
        if response.status != 200 or len(body) > MAX_PLAYERS_JSON:
            raise AdapterError(f"players.json answered {response.status}")
        try:
            rows = json.loads(body)
        except ValueError:
            raise AdapterError("players.json is not JSON") from None
        if not isinstance(rows, list):
            raise AdapterError("players.json is not a list")
        return [p for p in (_fivem_player(r) for r in rows) if p is not None]


def _fivem_player(row: Any) -> Player | None:
    if not isinstance(row, dict) or not isinstance(row.get("name"), str):
        return None
    steam_id = None
    for ident in row.get("identifiers") or []:
        if isinstance(ident, str) and ident.startswith("steam:"):
            with contextlib.suppress(ValueError):
                steam_id = str(int(ident[6:], 16))
    return Player(name=row["name"][:64], steam_id=steam_id)


_STATUS_ROW = re.compile(r"^\s*\d+\s+-?\d+\s+\d+\s+(.+?)\s+\d+\s+\S+:\d+\s+\d+\s+\d+\s*$")


def parse_quake_status(output: str) -> list[Player]:
    """Quake 3 ``status``: ``num score ping name lastmsg address qport rate`` rows; ``^N``
    colour codes are not part of the name."""
    players = []
    for line in output.splitlines():
        match = _STATUS_ROW.match(line)
        if match:
            players.append(Player(name=re.sub(r"\^\d", "", match.group(1)).strip()))
    return players
