"""Source RCON client (Minecraft, ARK, CS2, CS:GO, TF2, GMod and other Source-protocol servers).

End of a multi-packet answer: after each command we send an empty SERVERDATA_RESPONSE_VALUE
with a second id. Source (srcds) mirrors it back as an empty RESPONSE_VALUE (followed by one
more packet with body 00 01 00 00); Minecraft answers any unknown packet type with
"Unknown request 0". Either way the sentinel's id comes back only after every packet of the
command's answer, because both servers answer one connection's packets in order. Packets whose
id belongs to an earlier exchange (srcds's trailing packet) are skipped, so nothing waits for a
packet that only one of the two servers sends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from ._compat import TIMEOUTS
from .base import (
    COMMAND_FAILED,
    UNKNOWN_COMMAND,
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
from .games import GameProfile, game_profile
from .rcon_protocol import (
    SERVERDATA_AUTH,
    SERVERDATA_AUTH_RESPONSE,
    SERVERDATA_EXECCOMMAND,
    SERVERDATA_RESPONSE_VALUE,
    Packet,
    ProtocolError,
    encode_packet,
    read_packet,
)

# Spec-abiding servers never exceed a 4096 size field, but some send larger packets; the limit
# is there to stop a wrong port or a corrupt stream (an HTTP server's "HTTP" reads as a size of
# 1.3 GB) from making us allocate, not to police servers.
DEFAULT_MAX_PACKET_SIZE = 1024 * 1024
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_MAX_ID = 2**31 - 1


class SourceRconAdapter(Adapter):
    name = "source_rcon"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        password: str,
        timeout: float = 5.0,
        game: str = "minecraft",
        error_patterns: Mapping[str, Iterable[str]] | None = None,
        multipacket: bool = True,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        self.host = host
        self.port = port
        self._password = password
        self.timeout = timeout
        self.profile: GameProfile = game_profile(game)
        self.errors = self.profile.errors.extended(error_patterns)
        self.separators = self.profile.separators
        self.multipacket = multipacket
        self.max_packet_size = max_packet_size
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_id = 0
        self._players_command = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SourceRconAdapter:
        multipacket = settings.get("multipacket", True)
        if not isinstance(multipacket, bool):
            raise ValueError("source_rcon: setting 'multipacket' must be true or false")
        password = setting_str(settings, "password")
        if not password:
            raise ValueError("source_rcon: setting 'password' must not be empty")
        return cls(
            host=setting_str(settings, "host", "127.0.0.1"),
            port=setting_port(settings),
            password=password,
            timeout=setting_timeout(settings),
            game=setting_str(settings, "game", "minecraft"),
            error_patterns=settings.get("error_patterns"),
            multipacket=multipacket,
        )

    # -- connection -------------------------------------------------------------------------

    def _lock_for_this_loop(self) -> asyncio.Lock:
        # Locks and streams belong to the event loop that made them; a second asyncio.run()
        # (the CLI's `check`, tests) gets fresh ones instead of "attached to a different loop".
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock = asyncio.Lock()
            self._loop = loop
            self._reader = self._writer = None
        return self._lock

    def _connected(self) -> bool:
        # A server that closed the socket since our last command (restart, idle timeout) has
        # delivered EOF by now; seeing it here lets us reconnect before sending, when retrying
        # is still certainly safe.
        return (
            self._writer is not None
            and self._reader is not None
            and not self._reader.at_eof()
            and not self._writer.is_closing()
        )

    async def connect(self) -> None:
        async with self._lock_for_this_loop():
            await self._ensure_connected()

    async def close(self) -> None:
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            self._reader = self._writer = None
            return
        await self._drop()

    async def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is None:
            return
        writer.close()
        with contextlib.suppress(OSError, *TIMEOUTS):
            await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _ensure_connected(self) -> None:
        if self._connected():
            return
        await self._drop()
        where = f"{self.host}:{self.port}"
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout
            )
        except TIMEOUTS:
            raise AdapterTimeout(f"RCON {where}: no connection within {self.timeout:g} s") from None
        except OSError as exc:
            raise AdapterError(f"RCON {where}: cannot connect: {exc.strerror or exc}") from None
        try:
            await self._authenticate()
        except BaseException:
            await self._drop()
            raise

    async def _authenticate(self) -> None:
        auth_id = self._new_id()
        deadline = self._deadline()
        await self._send(encode_packet(auth_id, SERVERDATA_AUTH, self._password.encode()), False)
        while True:
            packet = await self._read(deadline, command_sent=False, what="authentication")
            if packet.type != SERVERDATA_AUTH_RESPONSE:
                continue  # srcds sends an empty RESPONSE_VALUE before its AUTH_RESPONSE
            if packet.id == -1:
                raise AdapterAuthError(f"RCON {self.host}:{self.port}: wrong RCON password")
            if packet.id == auth_id:
                return

    # -- commands ---------------------------------------------------------------------------

    async def execute(self, command: str) -> Result:
        body = command.encode("utf-8")
        refusal = self._refusal(body)
        if refusal:
            return Result(ok=False, output=refusal, error_code=COMMAND_FAILED)
        async with self._lock_for_this_loop():
            await self._ensure_connected()
            output = await self._exchange(body)
        return self.errors.classify(output)

    def _refusal(self, body: bytes) -> str | None:
        if b"\x00" in body:
            return "not sent: the command contains a NUL byte, which would cut it short"
        if len(body) > self.profile.max_command_bytes:
            return (
                f"not sent: the command is {len(body)} bytes; {self.profile.name} reads at most "
                f"{self.profile.max_command_bytes} bytes per RCON packet"
            )
        return None

    async def _exchange(self, body: bytes) -> str:
        command_id = self._new_id()
        data = encode_packet(command_id, SERVERDATA_EXECCOMMAND, body)
        end_id = None
        if self.multipacket:
            end_id = self._new_id()
            data += encode_packet(end_id, SERVERDATA_RESPONSE_VALUE, b"")
        deadline = self._deadline()
        await self._send(data, True)
        chunks: list[bytes] = []
        size = 0
        while True:
            packet = await self._read(deadline, command_sent=True, what="the answer")
            if packet.id == command_id:
                chunks.append(packet.body)
                size += len(packet.body)
                if size > MAX_RESPONSE_BYTES:
                    await self._drop()
                    raise AdapterError(
                        f"RCON {self.host}:{self.port}: answer larger than {MAX_RESPONSE_BYTES} "
                        "bytes; connection dropped",
                        command_sent=True,
                    )
                if end_id is None:
                    break
            elif packet.id == end_id:
                break
            elif packet.id == -1:
                await self._drop()
                raise AdapterAuthError(
                    f"RCON {self.host}:{self.port}: the server no longer accepts our password",
                    command_sent=True,
                )
            # Any other id answers an earlier exchange (srcds's trailing sentinel packet).
        # Bytes are joined before decoding: a 4096-byte split can cut a UTF-8 character in two.
        return b"".join(chunks).decode("utf-8", errors="replace")

    async def players(self) -> list[Player]:
        commands = self.profile.players_commands
        while True:
            command = commands[self._players_command]
            result = await self.execute(command)
            if result.ok:
                return self.profile.parse_players(result.output)
            if result.error_code == UNKNOWN_COMMAND and self._players_command + 1 < len(commands):
                self._players_command += 1  # an older server: remember and use the fallback
                continue
            raise AdapterError(
                f"RCON {self.host}:{self.port}: {command!r} failed: {result.output.strip()}"
            )

    # -- plumbing ---------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._last_id = self._last_id + 1 if self._last_id < _MAX_ID else 1
        return self._last_id

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.timeout

    async def _send(self, data: bytes, command_sent: bool) -> None:
        assert self._writer is not None
        try:
            self._writer.write(data)
            await asyncio.wait_for(self._writer.drain(), self.timeout)
        except TIMEOUTS:
            await self._drop()
            raise AdapterTimeout(
                f"RCON {self.host}:{self.port}: could not send within {self.timeout:g} s",
                command_sent=command_sent,
            ) from None
        except (OSError, RuntimeError) as exc:
            await self._drop()
            raise AdapterError(
                f"RCON {self.host}:{self.port}: connection broken while sending: {exc}",
                command_sent=command_sent,
            ) from None

    async def _read(self, deadline: float, *, command_sent: bool, what: str) -> Packet:
        assert self._reader is not None
        remaining = deadline - asyncio.get_running_loop().time()
        where = f"RCON {self.host}:{self.port}"
        try:
            return await asyncio.wait_for(
                read_packet(self._reader, max_size=self.max_packet_size), max(0.0, remaining)
            )
        except TIMEOUTS:
            # A half-read packet leaves the stream unusable: start afresh next time.
            await self._drop()
            raise AdapterTimeout(
                f"{where}: no {what} within {self.timeout:g} s", command_sent=command_sent
            ) from None
        except asyncio.IncompleteReadError:
            await self._drop()
            raise AdapterError(
                f"{where}: the server closed the connection while we waited for {what}",
                command_sent=command_sent,
            ) from None
        except ProtocolError as exc:
            await self._drop()
            raise AdapterError(
                f"{where}: not a Source RCON answer ({exc}); is this the RCON port?",
                command_sent=command_sent,
            ) from None
        except OSError as exc:
            await self._drop()
            raise AdapterError(
                f"{where}: connection broken: {exc}", command_sent=command_sent
            ) from None
