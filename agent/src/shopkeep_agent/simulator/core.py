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
        battleye_port: int | None = None,
        udp_rcon_port: int | None = None,
        telnet_port: int | None = None,
        panel_port: int | None = None,
        panel_api_key: str = "ptlc_simulator",
        panel_server_id: str = "1a2b3c4d",
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
        self.extra = _extra_servers(self, rcon_password, host, battleye_port, udp_rcon_port,
                                    telnet_port, panel_port, panel_api_key, panel_server_id)
        self.world.listeners.append(self._announce)
        self._control_port = control_port
        self._control: asyncio.AbstractServer | None = None

    def _announce(self, kind: str, text: str) -> None:
        # Unsolicited console output: BattlEye server messages, 7DTD log lines.
        for name in ("battleye", "telnet"):
            server = self.extra.get(name)
            if server is not None:
                server.broadcast(text)

    def _run_as(self, transport: str, command: str) -> str:
        self.world.record(transport, command)
        out = self.minecraft.run(command)
        if out.startswith("Unknown or incomplete command"):
            # Each console words "unknown command" its own way.
            word = command.split(" ")[0]
            return {"battleye": "Unknown command", "udp_rcon": f"No such command {word}.",
                    "telnet": f"*** ERROR: unknown command '{word}'"}.get(transport, out)
        return out

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
            for server in self.extra.values():
                await server.start()
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
        for server in self.extra.values():
            await server.stop()
        self.world.close()

    def drop_connections(self) -> int:
        dropped = self.rcon.drop_connections() if self.rcon else 0
        if self.webrcon:
            dropped += self.webrcon.drop_connections()
        for server in self.extra.values():
            drop = getattr(server, "drop_connections", None)
            if drop is not None:
                dropped += drop()
        return dropped

    def ports(self) -> dict[str, int | None]:
        return {
            "rcon_port": self.rcon_port,
            "webrcon_port": self.webrcon_port,
            "control_port": self.control_port,
            **{f"{name}_port": server.port for name, server in self.extra.items()},
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


def _extra_servers(sim: Simulator, password: str, host: str, battleye: int | None,
                   udp_rcon: int | None, telnet: int | None, panel: int | None,
                   panel_api_key: str, panel_server_id: str) -> dict[str, Any]:
    """The consoles added for issue 18, each a wire protocol in front of the same world."""
    servers: dict[str, Any] = {}
    world = sim.world
    if battleye is not None:
        from .battleye_server import BattlEyeServer, players_table

        servers["battleye"] = BattlEyeServer(
            password=password, host=host, port=battleye,
            run_command=lambda c: sim._run_as("battleye", c),
            players_table=lambda: players_table(list(world.online.values())))
    if udp_rcon is not None:
        from .udp_rcon_server import UdpRconServer

        servers["udp_rcon"] = UdpRconServer(
            password=password, host=host, port=udp_rcon,
            run_command=lambda c: sim._run_as("udp_rcon", c),
            players_json=lambda: [
                {"name": p.name, "id": i + 1, "ping": 30,
                 "identifiers": [f"steam:{int(p.steam_id):x}", f"license:{p.uuid}"]}
                for i, p in enumerate(world.online.values())])
    if telnet is not None:
        from .telnet_server import TelnetServer, listplayers

        def run_telnet(command: str) -> str:
            if command.strip().lower() in ("listplayers", "lp"):
                return listplayers(list(world.online.values()))
            return sim._run_as("telnet", command)

        servers["telnet"] = TelnetServer(password=password, host=host, port=telnet,
                                         run_command=run_telnet)
    if panel is not None:
        from .panel_server import PanelServer

        servers["panel"] = PanelServer(api_key=panel_api_key, server_id=panel_server_id,
                                       host=host, port=panel,
                                       run_command=lambda c: sim._run_as("panel", c))
    return servers
