"""The simulator as one object: a world, its consoles, the servers and the control channel."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from .minecraft import MinecraftConsole
from .rcon_server import RconServer
from .world import World

LOCALHOST = "127.0.0.1"


class Simulator:
    """Start with ``await sim.start()``, stop with ``await sim.stop()`` (or use run_simulator).
    Ports given as 0 are chosen by the system; read them back from the attributes after start.
    """

    def __init__(
        self,
        *,
        rcon_port: int | None = 0,
        rcon_password: str = "",
        rcon_flavour: str = "minecraft",
        webrcon_port: int | None = None,
        webrcon_password: str | None = None,
        control_port: int | None = None,
        log: str | Path | None = None,
        players: Iterable[str] = (),
        max_players: int = 20,
        host: str = LOCALHOST,
    ) -> None:
        self.host = host
        self.world = World(max_players=max_players, log_path=log)
        for name in players:
            self.world.join(name)
        self.minecraft = MinecraftConsole(self.world)
        self.rcon: RconServer | None = None
        if rcon_port is not None:
            self.rcon = RconServer(
                password=rcon_password,
                run_command=self._run_rcon,
                flavour=rcon_flavour,
                host=host,
                port=rcon_port,
            )
        self.webrcon = None
        if webrcon_port is not None:
            from .webrcon_server import WebRconServer

            self.webrcon = WebRconServer(
                world=self.world,
                password=webrcon_password if webrcon_password is not None else rcon_password,
                host=host,
                port=webrcon_port,
            )
        self._control_port = control_port
        self._control: asyncio.AbstractServer | None = None

    @property
    def rcon_port(self) -> int | None:
        return self.rcon.port if self.rcon else None

    @property
    def webrcon_port(self) -> int | None:
        return self.webrcon.port if self.webrcon else None

    @property
    def control_port(self) -> int | None:
        if self._control is None:
            return None
        return self._control.sockets[0].getsockname()[1]

    def _run_rcon(self, command: str) -> str:
        self.world.record("rcon", command)
        return self.minecraft.run(command)

    async def start(self) -> None:
        try:
            if self.rcon:
                await self.rcon.start()
            if self.webrcon:
                await self.webrcon.start()
            if self._control_port is not None:
                self._control = await asyncio.start_server(
                    self._handle_control, self.host, self._control_port
                )
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            await self._control.wait_closed()
        if self.webrcon:
            await self.webrcon.stop()
        if self.rcon:
            await self.rcon.stop()
        self.world.close()

    def drop_connections(self) -> int:
        dropped = self.rcon.drop_connections() if self.rcon else 0
        if self.webrcon:
            dropped += self.webrcon.drop_connections()
        return dropped

    def ports(self) -> dict[str, int | None]:
        return {
            "rcon_port": self.rcon_port,
            "webrcon_port": self.webrcon_port,
            "control_port": self.control_port,
        }

    # -- control channel: one JSON object per line each way ---------------------------------

    def control(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        name = request.get("name")
        try:
            if op == "join":
                player = self.world.join(
                    str(name), uuid_=request.get("uuid"), steam_id=request.get("steam_id")
                )
                return {"ok": True, "player": _player_json(player)}
            if op == "leave":
                if not self.world.leave(str(name)):
                    return {"ok": False, "error": f"{name} is not online"}
                return {"ok": True}
            if op == "players":
                return {
                    "ok": True,
                    "players": [_player_json(p) for p in self.world.online.values()],
                }
            if op == "drop":
                return {"ok": True, "dropped": self.drop_connections()}
            if op == "ping":
                return {"ok": True, **self.ports()}
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": False, "error": f"unknown op {op!r} (join, leave, players, drop, ping)"}

    async def _handle_control(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("expected a JSON object")
                except ValueError as exc:
                    answer: dict[str, Any] = {"ok": False, "error": f"bad request: {exc}"}
                else:
                    answer = self.control(request)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def _player_json(player: Any) -> dict[str, str]:
    return {"name": player.name, "uuid": player.uuid, "steam_id": player.steam_id}


@contextlib.asynccontextmanager
async def run_simulator(**kwargs: Any) -> AsyncIterator[Simulator]:
    """``async with run_simulator(rcon_password="pw", webrcon_port=0) as sim:`` for tests."""
    simulator = Simulator(**kwargs)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


async def send_control(port: int, request: dict[str, Any], *, host: str = LOCALHOST) -> dict:
    """Send one control request to a running simulator (from any process)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
    if not line:
        raise ConnectionError("the simulator closed the control connection without answering")
    return json.loads(line)
