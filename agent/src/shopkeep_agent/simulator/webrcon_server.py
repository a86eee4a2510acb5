"""A Rust-style WebRCON server (websocket JSON) on top of the `websockets` library.

Replies carry the request's Identifier; joins, leaves and chat are pushed to every client with
Identifier 0 (console) or -1 (chat), like Rust does. A wrong password is refused during the
handshake with HTTP 401 (Rust writes a bare close frame instead; the client treats both as a
wrong password, and its tests cover the bare frame with a raw socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .rust import RustConsole
from .world import World


class WebRconServer:
    def __init__(self, *, world: World, password: str, host: str = "127.0.0.1", port: int = 0):
        if not password:
            raise ValueError("a WebRCON server needs a password (Rust disables RCON without)")
        self.world = world
        self.console = RustConsole(world)
        self.password = password
        self.host = host
        self.port = port
        self._server: Any = None
        self._clients: set[ServerConnection] = set()
        self._pushes: set[asyncio.Future[None]] = set()
        world.listeners.append(self._broadcast)

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._check_password,
            ping_interval=None,
            compression=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._broadcast in self.world.listeners:
            self.world.listeners.remove(self._broadcast)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop_connections(self) -> int:
        clients = list(self._clients)
        for client in clients:
            # Abrupt, like a crashed server: no closing handshake.
            client.transport.abort()
        return len(clients)

    def _check_password(self, connection: ServerConnection, request: Any) -> Any:
        given = unquote(request.path.lstrip("/"))
        if hmac.compare_digest(given.encode(), self.password.encode()):
            return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "")

    async def _handle(self, connection: ServerConnection) -> None:
        self._clients.add(connection)
        try:
            async for frame in connection:
                try:
                    request = json.loads(frame)
                    identifier = int(request.get("Identifier", 0))
                    command = str(request.get("Message", ""))
                except (ValueError, TypeError, AttributeError):
                    continue  # Rust ignores what it cannot parse
                self.world.record("webrcon", command)
                output = self.console.run(command)
                await connection.send(_message(identifier, output, "Generic"))
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(connection)

    def _broadcast(self, kind: str, text: str) -> None:
        identifier = -1 if kind == "Chat" else 0
        data = _message(identifier, text, kind)
        for client in list(self._clients):
            push = asyncio.ensure_future(_send_quietly(client, data))
            self._pushes.add(push)
            push.add_done_callback(self._pushes.discard)


async def _send_quietly(client: ServerConnection, data: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        await client.send(data)


def _message(identifier: int, text: str, kind: str) -> str:
    return json.dumps({"Message": text, "Identifier": identifier, "Type": kind, "Stacktrace": ""})
