"""Telnet console (7 Days to Die): a password prompt, then one command per line.

The console is plain text over TCP: the server asks ``Please enter password:``, answers
``Logon successful.``, then writes its log to every client. A command's answer starts after
the server's own ``Executing command '<command>' by Telnet from ...`` line and ends when
the server has been quiet for ``quiet_ms`` (7DTD writes no end marker); log lines written
meanwhile (``<time> <uptime> INF ...``) are not part of it. Telnet option negotiation
(IAC ...) is refused and stripped; 7DTD sends none. telnetlib was removed from Python 3.13
and telnetlib3's client negotiates options on connect that a plain console reads as text,
so this speaks the few bytes of the protocol itself.
"""

from __future__ import annotations

import asyncio
import contextlib
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

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
MAX_LINE = 64 * 1024
MAX_ANSWER_BYTES = 1024 * 1024
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d \d+\.\d+ (?:INF|WRN|ERR|EXC) ")
SEVEN_DAYS_ERRORS: ErrorPatterns = _patterns(
    UNKNOWN_COMMAND=[r"^\*\*\* ERROR: unknown command"],
    PLAYER_NOT_FOUND=[r"(?:Playername or entity(?:/steamid)? id not found|Player .* not found)"],
    COMMAND_FAILED=[r"^\*\*\* ERROR: ", r"^(?:Wrong number of arguments|Illegal )"],
)


class TelnetStream:
    """Lines from a telnet connection with IAC sequences removed and refused."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buffer = bytearray()
        self._iac: bytearray | None = None
        self._sub = False

    def _feed(self, data: bytes) -> None:
        for byte in data:
            if self._iac is not None:
                self._iac.append(byte)
                if len(self._iac) == 1:
                    if byte == IAC and not self._sub:
                        self.buffer.append(IAC)  # escaped 255
                        self._iac = None
                    elif byte == SB:
                        self._sub, self._iac = True, None
                    elif byte == SE:
                        self._sub, self._iac = False, None
                    elif byte not in (DO, DONT, WILL, WONT):
                        self._iac = None
                    continue
                verb, option = self._iac[0], byte
                self._iac = None
                if verb == DO:
                    self.writer.write(bytes((IAC, WONT, option)))
                elif verb == WILL:
                    self.writer.write(bytes((IAC, DONT, option)))
                continue
            if byte == IAC:
                self._iac = bytearray()
            elif not self._sub:
                self.buffer.append(byte)
        if len(self.buffer) > MAX_LINE and b"\n" not in self.buffer:
            raise AdapterError("the console sent a line longer than 64 KB")

    async def read_line(self, timeout: float) -> str | None:
        """The next line (without CR LF), or None when nothing came within ``timeout``.
        A prompt without a newline ("Please enter password:") counts as a line once quiet."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                if self.buffer:
                    line, self.buffer = bytes(self.buffer), bytearray()
                    return line.decode("utf-8", "replace").rstrip("\r")
                return None
            try:
                data = await asyncio.wait_for(self.reader.read(4096), left)
            except TIMEOUTS:
                continue
            if not data:
                raise ConnectionError("the console closed the connection")
            self._feed(data)
        index = self.buffer.index(b"\n")
        line = bytes(self.buffer[:index])
        del self.buffer[:index + 1]
        return line.decode("utf-8", "replace").rstrip("\r")

    def drain(self) -> None:
        self.buffer.clear()


class TelnetAdapter(Adapter):
    name = "telnet"
    separators = ";\n\r"

    def __init__(self, *, host: str, port: int, password: str, timeout: float = 5.0,
                 quiet_ms: int = 300, error_patterns: Mapping[str, Any] | None = None) -> None:
        self.host, self.port, self._password = host, port, password
        self.timeout, self.quiet = timeout, quiet_ms / 1000
        self.errors = SEVEN_DAYS_ERRORS.extended(error_patterns)
        self._stream: TelnetStream | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> TelnetAdapter:
        password = setting_str(settings, "password")
        if not password or re.search(r"[\x00-\x1f]", password):
            raise ValueError("telnet: setting 'password' must be non-empty and printable")
        quiet = settings.get("quiet_ms", 300)
        if isinstance(quiet, bool) or not isinstance(quiet, int) or not 50 <= quiet <= 5000:
            raise ValueError("telnet: setting 'quiet_ms' must be 50 to 5000")
        return cls(host=setting_str(settings, "host", "127.0.0.1"), port=setting_port(settings),
                   password=password, timeout=setting_timeout(settings), quiet_ms=quiet,
                   error_patterns=settings.get("error_patterns"))

    def _lock_for_this_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._stream = asyncio.Lock(), loop, None
        return self._lock

    async def connect(self) -> None:
        async with self._lock_for_this_loop():
            await self._ensure()

    async def _ensure(self) -> TelnetStream:
        if self._stream is not None and not self._stream.reader.at_eof():
            return self._stream
        await self._drop()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout)
        except (OSError, *TIMEOUTS) as exc:
            raise AdapterError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        stream = TelnetStream(reader, writer)
        try:
            await self._login(stream)
        except BaseException:
            writer.close()
            raise
        self._stream = stream
        return stream

    async def _login(self, stream: TelnetStream) -> None:
        deadline = time.monotonic() + self.timeout
        sent = False
        try:
            while time.monotonic() < deadline:
                line = await stream.read_line(min(0.5, max(0.01, deadline - time.monotonic())))
                if line is None:
                    continue
                lower = line.lower()
                if sent and "logon successful" in lower:
                    return
                if sent and ("incorrect" in lower or "wrong" in lower):
                    raise AdapterAuthError("the console refused the telnet password")
                if not sent and "enter password" in lower:
                    stream.writer.write(self._password.encode("utf-8") + b"\r\n")
                    await stream.writer.drain()
                    sent = True
        except (ConnectionError, OSError) as exc:
            raise AdapterError(f"console closed during login: {exc}") from None
        raise AdapterTimeout("no password prompt / logon answer from the console within "
                             f"{self.timeout:g}s")

    async def _drop(self) -> None:
        if self._stream is not None:
            self._stream.writer.close()
            with contextlib.suppress(Exception):
                await self._stream.writer.wait_closed()
        self._stream = None

    async def close(self) -> None:
        if self._loop is asyncio.get_running_loop():
            await self._drop()

    async def _run(self, command: str, *, sent_means_unknown: bool) -> str:
        stream = await self._ensure()
        # Log lines the server wrote since the last command are nobody's answer.
        with contextlib.suppress(AdapterError):
            while await stream.read_line(0) is not None:
                pass
        stream.drain()
        try:
            stream.writer.write(command.encode("utf-8") + b"\r\n")
            await stream.writer.drain()
        except (ConnectionError, OSError) as exc:
            await self._drop()
            raise AdapterError(f"console connection lost: {exc}",
                               command_sent=sent_means_unknown) from None
        marker = f"Executing command '{command}'"
        deadline = time.monotonic() + self.timeout
        started, lines, size = False, [], 0
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                line = await stream.read_line(min(left, self.quiet) if started else left)
                if line is None:
                    if started:
                        break
                    continue
                if not started:
                    started = marker in line
                    continue
                if _LOG_LINE.match(line):
                    continue
                size += len(line)
                if size > MAX_ANSWER_BYTES:
                    break
                lines.append(line)
        except (ConnectionError, OSError, AdapterError) as exc:
            await self._drop()
            raise AdapterError(f"console connection lost: {exc}",
                               command_sent=sent_means_unknown) from None
        if not started:
            await self._drop()
            raise AdapterTimeout(f"the console did not take the command within "
                                 f"{self.timeout:g}s", command_sent=sent_means_unknown)
        return "\n".join(lines)

    async def execute(self, command: str) -> Result:
        async with self._lock_for_this_loop():
            output = await self._run(command, sent_means_unknown=True)
        return self.errors.classify(output)

    async def players(self) -> list[Player]:
        async with self._lock_for_this_loop():
            return parse_listplayers(await self._run("listplayers", sent_means_unknown=False))


_PLAYER = re.compile(r"^\d+\. id=\d+, (.+?), pos=")
_STEAM = re.compile(r"(?:pltfmid=Steam_|steamid=)(7656\d{13})")


def parse_listplayers(output: str) -> list[Player]:
    """``0. id=171, Steve, pos=(...), ..., pltfmid=Steam_76561198000000000, ...`` rows
    (``steamid=`` before Alpha 21)."""
    players = []
    for line in output.splitlines():
        match = _PLAYER.match(line)
        if match:
            steam = _STEAM.search(line)
            players.append(Player(name=match.group(1), steam_id=steam.group(1) if steam
                                  else None))
    return players
