"""A real Source RCON server over TCP, speaking either Minecraft's or srcds's dialect of it.

Differences reproduced on purpose, because clients must cope with both:
* srcds sends an empty RESPONSE_VALUE before the AUTH_RESPONSE; Minecraft sends only the latter.
* An empty RESPONSE_VALUE from the client is mirrored by srcds, followed by a packet whose body
  is 00 00 00 01; Minecraft answers any type it does not know with "Unknown request <hex>".
* Minecraft's reader takes at most 1460 bytes per packet (a 1446-byte command); srcds 4096.
* Answers longer than 4096 bytes are split into 4096-byte bodies by both.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable

from ..adapters.rcon_protocol import (
    MAX_RESPONSE_BODY,
    SERVERDATA_AUTH,
    SERVERDATA_AUTH_RESPONSE,
    SERVERDATA_EXECCOMMAND,
    SERVERDATA_RESPONSE_VALUE,
    ProtocolError,
    encode_packet,
    read_packet,
)

FLAVOURS = ("minecraft", "source")
_MAX_SIZE = {"minecraft": 1460 - 4, "source": 4096}


class RconServer:
    def __init__(
        self,
        *,
        password: str,
        run_command: Callable[[str], str],
        flavour: str = "minecraft",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"rcon flavour must be one of {FLAVOURS} (got {flavour!r})")
        if not password:
            raise ValueError("an RCON server needs a password (real servers refuse to start)")
        self.password = password.encode()
        self.run_command = run_command
        self.flavour = flavour
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.drop_connections()
        # Closed sockets end each handler with EOF; cancel only what is still stuck after that.
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=2)
            for task in pending:
                task.cancel()

    def drop_connections(self) -> int:
        """Close every client connection, like a server restart does to its clients."""
        writers = list(self._writers)
        for writer in writers:
            writer.close()
        return len(writers)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ProtocolError, ConnectionError, OSError):
            pass  # the client went away or spoke garbage: a real server just drops it
        except asyncio.CancelledError:
            pass  # stop(): asyncio's stream callback would log a cancelled handler as an error
        finally:
            self._writers.discard(writer)
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        authenticated = False
        source = self.flavour == "source"
        while True:
            packet = await read_packet(reader, max_size=_MAX_SIZE[self.flavour])
            if packet.type == SERVERDATA_AUTH:
                authenticated = hmac.compare_digest(packet.body, self.password)
                reply_id = packet.id if authenticated else -1
                if source:
                    writer.write(encode_packet(reply_id, SERVERDATA_RESPONSE_VALUE, b""))
                writer.write(encode_packet(reply_id, SERVERDATA_AUTH_RESPONSE, b""))
            elif packet.type == SERVERDATA_EXECCOMMAND:
                if not authenticated:
                    if source:
                        return  # srcds drops unauthenticated command senders
                    writer.write(encode_packet(-1, SERVERDATA_AUTH_RESPONSE, b""))
                else:
                    output = self.run_command(packet.body.decode("utf-8", errors="replace"))
                    self._write_answer(writer, packet.id, output.encode("utf-8"))
            elif source:
                if packet.type == SERVERDATA_RESPONSE_VALUE and authenticated:
                    writer.write(encode_packet(packet.id, SERVERDATA_RESPONSE_VALUE, b""))
                    writer.write(
                        encode_packet(packet.id, SERVERDATA_RESPONSE_VALUE, b"\x00\x00\x00\x01")
                    )
            else:
                answer = f"Unknown request {packet.type:x}".encode()
                writer.write(encode_packet(packet.id, SERVERDATA_RESPONSE_VALUE, answer))
            await writer.drain()

    @staticmethod
    def _write_answer(writer: asyncio.StreamWriter, packet_id: int, data: bytes) -> None:
        if not data:
            writer.write(encode_packet(packet_id, SERVERDATA_RESPONSE_VALUE, b""))
            return
        for start in range(0, len(data), MAX_RESPONSE_BODY):
            chunk = data[start : start + MAX_RESPONSE_BODY]
            writer.write(encode_packet(packet_id, SERVERDATA_RESPONSE_VALUE, chunk))
