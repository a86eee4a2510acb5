"""A 7 Days to Die-like telnet console: greeting, password prompt (3 tries), then each
command echoed as an ``Executing command`` log line before its output; joins and leaves are
written to every client as log lines, like the real server's log stream."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from typing import Callable

from ..adapters._compat import UTC


def log_line(text: str) -> str:
    stamp = dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp} {time.monotonic():.3f} INF {text}"


class TelnetServer:
    def __init__(self, *, password: str, run_command: Callable[[str], str],
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.password = password
        self.run_command = run_command
        self.host, self._port = host, port
        self.server: asyncio.AbstractServer | None = None
        self.clients: set[asyncio.StreamWriter] = set()
        self.silent = False

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, self.host, self._port,
                                                 limit=64 * 1024)

    async def stop(self) -> None:
        self.drop_connections()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def drop_connections(self) -> int:
        dropped = len(self.clients)
        for writer in list(self.clients):
            writer.close()
        self.clients.clear()
        return dropped

    def broadcast(self, text: str) -> None:
        for writer in list(self.clients):
            writer.write((log_line(text) + "\r\n").encode())

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            writer.write(b"*** Connected with 7DTD server.\r\n*** Server version: Simulator "
                         b"(b1) Compatibility Version: V 1.0\r\n\r\nPlease enter password:\r\n")
            for attempt in range(3):
                line = await asyncio.wait_for(reader.readline(), 30)
                if line.rstrip(b"\r\n").decode("utf-8", "replace") == self.password:
                    break
                if attempt == 2:
                    writer.write(b"Password incorrect, closing connection.\r\n")
                    return
                writer.write(b"Password incorrect, please enter password:\r\n")
            else:  # pragma: no cover
                return
            writer.write(b"Logon successful.\r\n\r\n")
            self.clients.add(writer)
            while True:
                line = await reader.readline()
                if not line:
                    return
                command = line.rstrip(b"\r\n").decode("utf-8", "replace")
                if not command.strip():
                    continue
                output = self.run_command(command)
                if self.silent:
                    continue
                writer.write((log_line(f"Executing command '{command}' by Telnet from "
                                       f"{peer[0]}:{peer[1]}") + "\r\n").encode())
                for out in output.splitlines():
                    writer.write((out + "\r\n").encode())
                await writer.drain()
        except (ConnectionError, asyncio.TimeoutError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.clients.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def listplayers(online: list) -> str:
    rows = [f"{i}. id={171 + i}, {p.name}, pos=(0.0, 61.0, 0.0), rot=(0.0, 0.0, 0.0), "
            f"remote=True, health=100, deaths=0, zombies=0, players=0, score=0, level=1, "
            f"pltfmid=Steam_{p.steam_id}, crossid=EOS_0002, ip=127.0.0.1, ping=12"
            for i, p in enumerate(online)]
    return "\n".join([*rows, f"Total of {len(online)} in the game"])
