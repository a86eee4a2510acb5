"""BattlEye RCon over UDP (DayZ, Arma 3, Arma 2): login, numbered command packets,
multi-part answers, keep-alives and acknowledged server messages (battleye_protocol.py).

UDP has no connection, so "sent" is decided by us: once a command datagram has left, a
missing answer means the command may have run, and it is never sent again (no resend with
the same sequence number, which BattlEye would execute again). Datagrams that are not
well-formed, not from the server's address, or answer a sequence number we are not
waiting for are dropped, so a flood or a forged packet cannot hang or mislead the adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from . import battleye_protocol as be
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

KEEPALIVE_SECONDS = 30.0  # the server drops a client silent for 45 s
MAX_ANSWER_BYTES = 1024 * 1024
BATTLEYE_ERRORS: ErrorPatterns = _patterns(
    UNKNOWN_COMMAND=[r"^Unknown command"],
    PLAYER_NOT_FOUND=[r"^(?:Player|Client) not found", r"^Invalid player"],
    COMMAND_FAILED=[r"^Error: "],
)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, adapter: BattlEyeAdapter) -> None:
        self.adapter = adapter
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.adapter._received(data)

    def error_received(self, exc: Exception) -> None:
        self.adapter._errored(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.adapter._errored(exc or ConnectionError("socket closed"))


class BattlEyeAdapter(Adapter):
    name = "battleye"
    separators = ";\n\r"

    def __init__(self, *, host: str, port: int, password: str, timeout: float = 5.0,
                 error_patterns: Mapping[str, Any] | None = None,
                 keepalive: float = KEEPALIVE_SECONDS) -> None:
        self.host, self.port, self._password = host, port, password
        self.timeout = timeout
        self.keepalive = keepalive
        self.errors = BATTLEYE_ERRORS.extended(error_patterns)
        self._protocol: _Protocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._logged_in = False
        self._login: asyncio.Future | None = None
        self._waiting: dict[int, asyncio.Future] = {}
        self._parts: dict[int, dict[int, bytes]] = {}
        self._seq = 0
        self._last_sent = 0.0
        self._keepalive_task: asyncio.Task | None = None
        self.messages: deque[str] = deque(maxlen=100)  # server messages, acknowledged
        self.dropped = 0  # malformed or unexpected datagrams

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BattlEyeAdapter:
        password = setting_str(settings, "password")
        if not password:
            raise ValueError("battleye: setting 'password' must not be empty")
        return cls(host=setting_str(settings, "host", "127.0.0.1"), port=setting_port(settings),
                   password=password, timeout=setting_timeout(settings),
                   error_patterns=settings.get("error_patterns"))

    # -- datagrams ------------------------------------------------------------------------
    def _received(self, data: bytes) -> None:
        try:
            packet = be.decode(data)
        except be.BattlEyeError:
            self.dropped += 1
            return
        if packet.type == be.LOGIN:
            if self._login is not None and not self._login.done():
                self._login.set_result(packet.body == b"\x01")
            return
        assert packet.seq is not None
        if packet.type == be.MESSAGE:
            self._send(be.ack(packet.seq))  # always, or the server repeats and then drops us
            self.messages.append(packet.body.decode("utf-8", "replace"))
            return
        waiter = self._waiting.get(packet.seq)
        if waiter is None or waiter.done():
            self.dropped += 1
            return
        if packet.part is None:
            waiter.set_result(packet.body)
            return
        count, index = packet.part
        parts = self._parts.setdefault(packet.seq, {})
        if parts and any(k >= count for k in parts):
            self.dropped += 1  # a part header that disagrees with the earlier ones
            return
        parts[index] = packet.body
        if sum(len(p) for p in parts.values()) > MAX_ANSWER_BYTES:
            waiter.set_exception(AdapterError("answer too large", command_sent=True))
            return
        if len(parts) == count:
            waiter.set_result(b"".join(parts[i] for i in range(count)))

    def _errored(self, exc: Exception) -> None:
        self._logged_in = False
        for waiter in [self._login, *self._waiting.values()]:
            if waiter is not None and not waiter.done():
                waiter.set_exception(AdapterError(f"UDP error: {exc}", command_sent=True))

    def _send(self, data: bytes) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.sendto(data)
            self._last_sent = time.monotonic()

    # -- session --------------------------------------------------------------------------
    def _lock_for_this_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
            self._protocol, self._logged_in = None, False
        return self._lock

    async def connect(self) -> None:
        async with self._lock_for_this_loop():
            await self._ensure()

    async def _ensure(self) -> None:
        if self._logged_in and time.monotonic() - self._last_sent < 40:
            return
        await self._close_socket()
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), remote_addr=(self.host, self.port))
        except OSError as exc:
            raise AdapterError(f"cannot open UDP to {self.host}:{self.port}: {exc}") from exc
        self._protocol = protocol
        self._login = loop.create_future()
        self._send(be.login(self._password))
        try:
            ok = await asyncio.wait_for(self._login, self.timeout)
        except TIMEOUTS:
            await self._close_socket()
            raise AdapterTimeout(f"no login answer from {self.host}:{self.port} within "
                                 f"{self.timeout:g}s (wrong port, or RCon disabled)") from None
        except AdapterError:
            await self._close_socket()
            raise
        if not ok:
            await self._close_socket()
            raise AdapterAuthError("BattlEye refused the RCon password")
        self._logged_in = True
        self._keepalive_task = loop.create_task(self._keep_alive())

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive)
            if self._lock is not None and not self._lock.locked() and \
                    time.monotonic() - self._last_sent >= self.keepalive:
                with contextlib.suppress(AdapterError, *TIMEOUTS):
                    async with self._lock:
                        await self._exchange("", sent_means_unknown=False)

    async def _close_socket(self) -> None:
        task, self._keepalive_task = self._keepalive_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol, self._logged_in = None, False
        self._waiting.clear()
        self._parts.clear()

    async def close(self) -> None:
        if self._loop is asyncio.get_running_loop():
            await self._close_socket()

    async def _exchange(self, text: str, *, sent_means_unknown: bool = True) -> str:
        seq = self._seq
        self._seq = (self._seq + 1) % 256
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[seq] = waiter
        self._parts.pop(seq, None)
        try:
            self._send(be.command(seq, text))
            try:
                body = await asyncio.wait_for(waiter, self.timeout)
            except TIMEOUTS:
                self._logged_in = False  # the session may be gone; log in again next time
                raise AdapterTimeout(f"no answer to command {seq} within {self.timeout:g}s",
                                     command_sent=sent_means_unknown) from None
        finally:
            self._waiting.pop(seq, None)
            self._parts.pop(seq, None)
        return body.decode("utf-8", "replace")

    # -- the interface --------------------------------------------------------------------
    async def execute(self, command: str) -> Result:
        async with self._lock_for_this_loop():
            await self._ensure()  # nothing sent yet: failures here are safe to retry
            output = await self._exchange(command)
        return self.errors.classify(output)

    async def players(self) -> list[Player]:
        async with self._lock_for_this_loop():
            await self._ensure()
            output = await self._exchange("players", sent_means_unknown=False)
        return parse_players(output)


_ROW = re.compile(r"^\s*(\d+)\s+(\S+):(\d+)\s+(-?\d+)\s+([0-9a-fA-F]{32}|-)\S*\s+(.+?)\s*$")


def parse_players(output: str) -> list[Player]:
    """The ``players`` table: ``0  1.2.3.4:2304  47  <32 hex>(OK)  Name`` per row; a
    player still joining shows ``-`` for the GUID; " (Lobby)" after the name is not part
    of it."""
    players = []
    for line in output.splitlines():
        match = _ROW.match(line)
        if match:
            name = re.sub(r"\s+\(Lobby\)$", "", match.group(6))
            players.append(Player(name=name))
    return players
