"""Quake-style UDP rcon (FiveM, RedM, Quake 3) against the simulator and hostile servers."""

from __future__ import annotations

import asyncio
import time

import pytest
from shopkeep_agent.adapters import AdapterAuthError, AdapterTimeout, create_adapter
from shopkeep_agent.adapters.udp_rcon import HEADER, UdpRconAdapter, parse_quake_status
from shopkeep_agent.simulator import run_simulator


def adapter(port: int, password: str = "pw", **extra) -> UdpRconAdapter:  # noqa: S107
    made = create_adapter({"type": "udp_rcon", "port": port, "password": password,
                           "timeout": 1, **extra})
    assert isinstance(made, UdpRconAdapter)
    return made


def test_it_runs_a_command_and_lists_fivem_players_from_players_json():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", udp_rcon_port=0,
                                 players=["Steve"]) as sim:
            a = adapter(sim.ports()["udp_rcon_port"])
            ok = await a.execute("give Steve diamond 1")
            unknown = await a.execute("frobnicate")
            players = await a.players()
            await a.close()
            return ok, unknown, players, sim.world.known["steve"].steam_id, sim.world.executed

    ok, unknown, players, steam_id, executed = asyncio.run(scenario())
    assert ok.ok and ok.output == "Gave 1 [Diamond] to Steve"
    assert (unknown.ok, unknown.error_code) == (False, "UNKNOWN_COMMAND")
    assert [(p.name, p.steam_id) for p in players] == [("Steve", steam_id)]
    assert executed == [("udp_rcon", "give Steve diamond 1"), ("udp_rcon", "frobnicate")]


def test_a_wrong_password_is_an_auth_error_and_nothing_runs():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", udp_rcon_port=0) as sim:
            a = adapter(sim.ports()["udp_rcon_port"], password="wrong")
            with pytest.raises(AdapterAuthError) as info:
                await a.execute("give Steve diamond 1")
            await a.close()
            return info.value, sim.world.executed

    error, executed = asyncio.run(scenario())
    assert error.command_sent is False and executed == []


def test_a_long_answer_in_several_datagrams_is_joined():
    async def scenario():
        names = [f"P{i:03d}" for i in range(40)]
        async with run_simulator(rcon_port=None, rcon_password="pw", udp_rcon_port=0,
                                 players=names, max_players=50) as sim:
            sim.extra["udp_rcon"].part_bytes = 10
            a = adapter(sim.ports()["udp_rcon_port"])
            result = await a.execute("list")
            await a.close()
            return result, names

    result, names = asyncio.run(scenario())
    assert result.output.endswith(": " + ", ".join(names))


def test_no_answer_is_an_unknown_outcome_and_the_command_is_sent_once():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", udp_rcon_port=0) as sim:
            sim.extra["udp_rcon"].silent = True
            a = adapter(sim.ports()["udp_rcon_port"])
            with pytest.raises(AdapterTimeout) as info:
                await a.execute("give Steve diamond 1")
            await a.close()
            return info.value, sim.world.executed

    error, executed = asyncio.run(scenario())
    assert error.command_sent is True and executed == [("udp_rcon", "give Steve diamond 1")]


def test_passwords_the_protocol_would_split_are_refused():
    for bad in ("two words", 'qu"ote', ""):
        with pytest.raises(ValueError):
            create_adapter({"type": "udp_rcon", "port": 30120, "password": bad})


class _Flood(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        for _ in range(3000):  # stray datagrams, then a huge answer
            self.transport.sendto(b"not rcon at all", addr)
        for _ in range(1200):
            self.transport.sendto(HEADER + b"print " + b"y" * 1400, addr)


def test_a_flood_ends_within_the_timeout_and_stays_bounded():
    async def scenario():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(_Flood, local_addr=("127.0.0.1", 0))
        a = adapter(transport.get_extra_info("sockname")[1])
        started = time.monotonic()
        try:
            result = await a.execute("status")
        except AdapterTimeout:
            result = None
        elapsed = time.monotonic() - started
        await a.close()
        transport.close()
        return result, elapsed

    result, elapsed = asyncio.run(scenario())
    assert elapsed < 3
    assert result is None or len(result.output) <= 1024 * 1024


def test_quake3_status_is_parsed_without_colour_codes():
    status = ("map: q3dm17\nnum score ping name            lastmsg address               qport "
              "rate\n--- ----- ---- --------------- ------- --------------------- ----- -----\n"
              "  0     5   50 ^1Ste^7ve               0 127.0.0.1:27960        1234 25000\n")
    assert [p.name for p in parse_quake_status(status)] == ["Steve"]
