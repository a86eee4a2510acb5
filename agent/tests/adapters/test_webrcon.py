"""The WebRCON client against the simulator's Rust-style server and raw misbehaving sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from shopkeep_agent.adapters import (
    PLAYER_NOT_FOUND,
    UNKNOWN_COMMAND,
    AdapterAuthError,
    AdapterError,
    AdapterTimeout,
    Player,
    create_adapter,
)
from shopkeep_agent.adapters.webrcon import WebRconAdapter
from shopkeep_agent.simulator import run_simulator


def webrcon(port: int, password: str | None = None, **extra: object) -> WebRconAdapter:
    settings = {"type": "webrcon", "port": port, "password": password or "hunter2", "timeout": 2}
    settings.update(extra)
    adapter = create_adapter(settings)
    assert isinstance(adapter, WebRconAdapter)
    return adapter


def simulator(**kwargs):
    return run_simulator(rcon_port=None, webrcon_port=0, rcon_password="hunter2", **kwargs)


def test_it_runs_commands_and_reads_the_games_answer():
    async def scenario():
        async with simulator(players=["Steve"]) as sim, webrcon(sim.webrcon_port) as adapter:
            result = await adapter.execute('inventory.giveto "Steve" rifle.ak 2')
            return result, sim.world.executed, sim.world.inventories

    result, executed, inventories = asyncio.run(scenario())
    assert result.ok and result.output == "Giving Steve 2 x rifle.ak"
    assert executed == [("webrcon", 'inventory.giveto "Steve" rifle.ak 2')]
    assert inventories == {"steve": {"rifle.ak": 2}}


def test_broadcasts_between_request_and_reply_are_ignored():
    async def scenario():
        async with simulator(players=["Steve"]) as sim, webrcon(sim.webrcon_port) as adapter:
            # Each join and "say" pushes a broadcast (Identifier 0 / -1) to connected clients.
            for name in ("Alex", "Notch", "jeb_"):
                sim.world.join(name)
            said = await adapter.execute("say hello")
            players = await adapter.players()
            return said, players

    said, players = asyncio.run(scenario())
    assert said.ok and said.output == ""
    assert [p.name for p in players] == ["Steve", "Alex", "Notch", "jeb_"]
    assert all(p.steam_id and p.steam_id.startswith("7656") for p in players)


def test_game_errors_become_failed_results():
    async def scenario():
        async with simulator(players=["Steve"]) as sim, webrcon(sim.webrcon_port) as adapter:
            return (
                await adapter.execute("frobnicate"),
                await adapter.execute("inventory.giveto Alex wood 10"),
                await adapter.execute("oxide.usergroup add Alex vip"),
                await adapter.execute("oxide.usergroup add Steve vip"),
            )

    unknown, giveto, usergroup, ok = asyncio.run(scenario())
    assert (unknown.ok, unknown.error_code, unknown.output) == (
        False,
        UNKNOWN_COMMAND,
        "Command 'frobnicate' not found",
    )
    assert (giveto.ok, giveto.error_code) == (False, PLAYER_NOT_FOUND)
    assert (usergroup.ok, usergroup.error_code) == (False, PLAYER_NOT_FOUND)
    assert ok.ok and ok.output == "Player 'Steve' added to group: vip"


def test_is_online_matches_by_steam_id_before_name():
    async def scenario():
        async with simulator(players=["Steve"]) as sim, webrcon(sim.webrcon_port) as adapter:
            steam_id = sim.world.online["steve"].steam_id
            return (
                await adapter.is_online(Player(name="renamed", steam_id=steam_id)),
                await adapter.is_online(Player(name="Steve", steam_id="76561197960265728")),
                await adapter.is_online(Player(name="STEVE")),
            )

    assert asyncio.run(scenario()) == (True, False, True)


def test_wrong_password_is_refused_and_runs_nothing():
    async def scenario():
        async with simulator() as sim:
            adapter = webrcon(sim.webrcon_port, password="wrong")
            with pytest.raises(AdapterAuthError) as caught:
                await adapter.execute("ban Steve")
            return caught.value, sim.world.executed

    error, executed = asyncio.run(scenario())
    assert error.code == "RCON_AUTH_FAILED" and error.command_sent is False
    assert executed == []


@contextlib.asynccontextmanager
async def tcp_server(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def test_rust_style_refusal_with_a_bare_close_frame_is_an_auth_error():
    async def rust_wrong_password(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"\x88\x02\x03\xe8")  # what Rust writes instead of an HTTP answer
        await writer.drain()
        writer.close()

    async def scenario():
        async with tcp_server(rust_wrong_password) as port:
            with pytest.raises(AdapterAuthError) as caught:
                await webrcon(port).execute("say hi")
            return caught.value

    assert "wrong RCON password" in str(asyncio.run(scenario()))


def test_reconnects_after_the_server_drops_the_connection():
    async def scenario():
        async with simulator(players=["Steve"]) as sim, webrcon(sim.webrcon_port) as adapter:
            first = await adapter.execute("say one")
            assert sim.drop_connections() == 1
            while adapter._open():  # the close has reached the client, as between two polls
                await asyncio.sleep(0.01)
            second = await adapter.execute("say two")
            return first, second, sim.world.executed

    first, second, executed = asyncio.run(scenario())
    assert first.ok and second.ok
    assert executed == [("webrcon", "say one"), ("webrcon", "say two")]


def test_timeout_when_no_reply_carries_our_identifier():
    async def scenario():
        websockets_server = pytest.importorskip("websockets.asyncio.server")
        seen = []

        async def only_broadcasts(connection):
            async for frame in connection:
                seen.append(json.loads(frame))
                # Unsolicited output and a reply to someone else, never ours.
                await connection.send(json.dumps({"Identifier": 0, "Message": "log line"}))
                await connection.send(json.dumps({"Identifier": 999999, "Message": "other"}))

        server = await websockets_server.serve(only_broadcasts, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            adapter = webrcon(port, timeout=0.4)
            with pytest.raises(AdapterTimeout) as caught:
                await adapter.execute("kick Steve")
            await adapter.close()
        finally:
            server.close()
            await server.wait_closed()
        return caught.value, seen

    error, seen = asyncio.run(scenario())
    assert error.command_sent is True
    assert seen == [{"Identifier": 1, "Message": "kick Steve", "Name": "WebRcon"}]


def test_refused_connection_is_an_adapter_error():
    async def scenario():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(AdapterError) as caught:
            await webrcon(port).players()
        return caught.value

    error = asyncio.run(scenario())
    assert type(error) is AdapterError and error.command_sent is False


def test_separators_and_settings():
    assert set(webrcon(28016).separators) == {";", "\n", "\r"}
    with pytest.raises(ValueError, match="password"):
        create_adapter({"type": "webrcon", "port": 28016})
    with pytest.raises(ValueError, match="port"):
        create_adapter({"type": "webrcon", "port": 0, "password": "x"})
