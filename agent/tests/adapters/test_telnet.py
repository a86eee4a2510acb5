"""The 7 Days to Die telnet console against the simulator and misbehaving servers."""

from __future__ import annotations

import asyncio
import time

import pytest
from shopkeep_agent.adapters import AdapterAuthError, AdapterError, create_adapter
from shopkeep_agent.adapters.telnet import TelnetAdapter, parse_listplayers
from shopkeep_agent.simulator import run_simulator


def adapter(port: int, password: str = "pw", **extra) -> TelnetAdapter:  # noqa: S107
    made = create_adapter({"type": "telnet", "port": port, "password": password, "timeout": 2,
                           "quiet_ms": 100, **extra})
    assert isinstance(made, TelnetAdapter)
    return made


def test_it_logs_in_runs_commands_and_lists_players():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", telnet_port=0,
                                 players=["Steve"]) as sim:
            a = adapter(sim.ports()["telnet_port"])
            ok = await a.execute("give Steve diamond 1")
            sim.world.join("Alex")  # a log line arrives between commands
            unknown = await a.execute("frob")
            players = await a.players()
            await a.close()
            return ok, unknown, players, sim.world.executed

    ok, unknown, players, executed = asyncio.run(scenario())
    assert ok.ok and ok.output == "Gave 1 [Diamond] to Steve"
    assert (unknown.ok, unknown.error_code) == (False, "UNKNOWN_COMMAND")
    assert [p.name for p in players] == ["Steve", "Alex"]
    assert players[0].steam_id and players[0].steam_id.startswith("7656")
    assert executed == [("telnet", "give Steve diamond 1"), ("telnet", "frob")]


def test_a_wrong_password_is_refused():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", telnet_port=0) as sim:
            a = adapter(sim.ports()["telnet_port"], password="nope")
            with pytest.raises(AdapterAuthError):
                await a.connect()
            await a.close()
            return sim.world.executed

    assert asyncio.run(scenario()) == []


async def _serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_option_negotiation_is_refused_and_stripped():
    seen = []

    async def handler(reader, writer):
        writer.write(bytes((255, 253, 24, 255, 251, 1)) + b"Please enter password: \xff\xff\r\n")
        seen.append(await reader.readexactly(6))  # IAC WONT 24, IAC DONT 1
        await reader.readline()
        writer.write(b"Logon successful.\r\n")
        await writer.drain()
        await reader.read()

    async def scenario():
        server, port = await _serve(handler)
        a = adapter(port)
        await a.connect()
        await a.close()
        server.close()

    asyncio.run(scenario())
    assert seen == [bytes((255, 252, 24, 255, 254, 1))]


def test_an_endless_line_is_refused_without_hanging():
    async def handler(reader, writer):
        writer.write(b"Please enter password:\r\n")
        await reader.readline()
        writer.write(b"Logon successful.\r\n")
        await reader.readline()
        for _ in range(100):
            writer.write(b"A" * 4096)  # never a newline
            await writer.drain()
        await asyncio.sleep(5)

    async def scenario():
        server, port = await _serve(handler)
        a = adapter(port)
        started = time.monotonic()
        with pytest.raises(AdapterError) as info:
            await a.execute("give Steve diamond 1")
        server.close()
        return info.value, time.monotonic() - started

    error, elapsed = asyncio.run(scenario())
    assert elapsed < 3
    assert error.command_sent is True  # the line was sent: it may have run


def test_a_console_that_never_takes_the_command_times_out_as_unknown():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", telnet_port=0) as sim:
            a = adapter(sim.ports()["telnet_port"])
            await a.connect()
            sim.extra["telnet"].silent = True
            with pytest.raises(AdapterError) as info:
                await a.execute("give Steve diamond 1")
            await a.close()
            return info.value

    assert asyncio.run(scenario()).command_sent is True


def test_listplayers_rows_with_old_and_new_id_fields():
    output = ("0. id=171, Steve, pos=(1.0, 2.0, 3.0), rot=(0, 0, 0), remote=True, "
              "pltfmid=Steam_76561198000000001, ping=10\n"
              "1. id=172, Old Timer, pos=(1.0, 2.0, 3.0), steamid=76561198000000002, ping=9\n"
              "Total of 2 in the game")
    assert [(p.name, p.steam_id) for p in parse_listplayers(output)] == [
        ("Steve", "76561198000000001"), ("Old Timer", "76561198000000002")]
