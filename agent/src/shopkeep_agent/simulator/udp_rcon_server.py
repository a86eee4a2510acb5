"""A FiveM-like server: Quake-style rcon over UDP, and ``/players.json`` over HTTP on the
same port number (TCP), as FiveM serves both on 30120."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any, Callable

from ..adapters.udp_rcon import HEADER

PART_BYTES = 1000


class UdpRconServer(asyncio.DatagramProtocol):
    def __init__(self, *, password: str, run_command: Callable[[str], str],
                 players_json: Callable[[], list[dict[str, Any]]], host: str = "127.0.0.1",
                 port: int = 0, part_bytes: int = PART_BYTES) -> None:
        self.password = password
        self.run_command = run_command
        self.players_json = players_json
        self.host, self._port = host, port
        self.part_bytes = part_bytes
        self.transport: asyncio.DatagramTransport | None = None
        self.http: asyncio.AbstractServer | None = None
        self.dropped_packets = 0
        self.silent = False

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # a free number for both UDP and TCP
            self.transport, _ = await loop.create_datagram_endpoint(
                lambda: self, local_addr=(self.host, self._port))
            try:
                self.http = await asyncio.start_server(self._http, self.host, self.port,
                                                       family=socket.AF_INET)
                return
            except OSError:
                self.transport.close()
                if self._port:
                    raise
        raise OSError("no port free for both UDP and TCP")

    async def stop(self) -> None:
        if self.http is not None:
            self.http.close()
            await self.http.wait_closed()
        if self.transport is not None:
            self.transport.close()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not data.startswith(HEADER + b"rcon "):
            self.dropped_packets += 1
            return
        text = data[len(HEADER) + 5:].decode("utf-8", "replace")
        password, _, command = text.partition(" ")
        if password != self.password:
            self._reply("Invalid password.\n", addr)
            return
        output = self.run_command(command.strip())
        if not self.silent:
            self._reply(output + "\n", addr)

    def _reply(self, text: str, addr: Any) -> None:
        body = text.encode("utf-8")
        assert self.transport is not None
        for i in range(0, max(len(body), 1), self.part_bytes):
            self.transport.sendto(HEADER + b"print " + body[i:i + self.part_bytes], addr)

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b""
            if path == b"/players.json":
                body, status = json.dumps(self.players_json()).encode(), "200 OK"
            else:
                body, status = b"Not Found", "404 Not Found"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                asyncio.TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
