"""BattlEye RCon over UDP against the simulator and against hostile datagram senders."""

from __future__ import annotations

import asyncio
import time
import zlib

import pytest
from shopkeep_agent.adapters import AdapterAuthError, AdapterTimeout, create_adapter
from shopkeep_agent.adapters import battleye_protocol as be
from shopkeep_agent.adapters.battleye import BattlEyeAdapter, parse_players
from shopkeep_agent.simulator import run_simulator


def adapter(port: int, password: str = "pw", **extra) -> BattlEyeAdapter:  # noqa: S107
    made = create_adapter({"type": "battleye", "port": port, "password": password,
                           "timeout": 1, **extra})
    assert isinstance(made, BattlEyeAdapter)
    return made


def test_packets_round_trip_and_carry_a_checksum():
    data = be.command(7, "players")
    assert data[:2] == b"BE" and data[6] == 0xFF
    packet = be.decode(data, from_server=False)
    assert (packet.type, packet.seq, packet.body) == (be.COMMAND, 7, b"players")
    assert be.decode(be.encode(be.COMMAND, bytes((3, 0, 2, 1)) + b"tail")).part == (2, 1)


@pytest.mark.parametrize("bad", [
    b"", b"BE", b"XX\x00\x00\x00\x00\xff\x01\x00",                       # wrong magic
    be.command(1, "x")[:-1],  # checksum mismatch
    # an unknown packet type
    b"BE" + (zlib.crc32(b"\xff\x07") & 0xFFFFFFFF).to_bytes(4, "little") + b"\xff\x07",
    be.encode(be.COMMAND, b""),                                           # no sequence number
    be.encode(be.COMMAND, bytes((1, 0, 2))),                              # truncated part header
    be.encode(be.COMMAND, bytes((1, 0, 2, 5)) + b"x"),                    # index past count
    be.encode(be.COMMAND, bytes((1, 0, 0, 0)) + b"x"),                    # zero parts
    be.encode(be.LOGIN, b"\x01\x01"),                                     # long login answer
    b"BE" + b"\x00" * 70000,                                              # over a datagram
])
def test_malformed_datagrams_are_refused(bad):
    with pytest.raises(be.BattlEyeError):
        be.decode(bad)


def test_it_logs_in_runs_a_command_and_lists_players():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", battleye_port=0,
                                 players=["Steve", "Alex"]) as sim:
            a = adapter(sim.ports()["battleye_port"])
            result = await a.execute("give Steve diamond 2")
            players = await a.players()
            await a.close()
            return result, players, sim.world.executed

    result, players, executed = asyncio.run(scenario())
    assert result.ok and result.output == "Gave 2 [Diamond] to Steve"
    assert [p.name for p in players] == ["Steve", "Alex"]
    assert executed == [("battleye", "give Steve diamond 2")]


def test_a_wrong_password_is_refused_and_nothing_runs():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", battleye_port=0) as sim:
            a = adapter(sim.ports()["battleye_port"], password="nope")
            with pytest.raises(AdapterAuthError) as info:
                await a.execute("give Steve diamond 1")
            await a.close()
            return info.value, sim.world.executed

    error, executed = asyncio.run(scenario())
    assert error.command_sent is False and executed == []


def test_a_multi_part_answer_is_joined_in_order():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", battleye_port=0,
                                 players=[f"P{i:03d}" for i in range(60)], max_players=100) as sim:
            sim.extra["battleye"].part_bytes = 300
            a = adapter(sim.ports()["battleye_port"])
            players = await a.players()
            await a.close()
            return players

    assert [p.name for p in asyncio.run(scenario())] == [f"P{i:03d}" for i in range(60)]


def test_server_messages_are_acknowledged_so_the_server_keeps_us():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", battleye_port=0) as sim:
            server = sim.extra["battleye"]
            a = adapter(sim.ports()["battleye_port"])
            await a.connect()
            sim.world.join("Steve")  # the server announces it
            deadline = time.monotonic() + 2
            while server.acks < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            unacked = [c.unacked for c in server.clients.values()]
            await a.close()
            return server.acks, unacked, list(a.messages)

    acks, unacked, messages = asyncio.run(scenario())
    assert acks == 1 and unacked == [{}]
    assert any("Steve" in m for m in messages)


def test_an_idle_session_sends_keep_alives():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", battleye_port=0) as sim:
            a = adapter(sim.ports()["battleye_port"], )
            a.keepalive = 0.1
            await a.connect()
            await asyncio.sleep(0.5)
            await a.close()
            return sim.extra["battleye"].keepalives

    assert asyncio.run(scenario()) >= 2


def test_no_answer_after_sending_is_an_unknown_outcome_and_is_not_resent():
    async def scenario():
        async with run_simulator(rcon_port=None, rcon_password="pw", battleye_port=0) as sim:
            a = adapter(sim.ports()["battleye_port"])
            await a.connect()
            sim.extra["battleye"].silent = True
            with pytest.raises(AdapterTimeout) as info:
                await a.execute("give Steve diamond 1")
            await a.close()
            return info.value, sim.world.executed

    error, executed = asyncio.run(scenario())
    assert error.command_sent is True
    assert executed == [("battleye", "give Steve diamond 1")]  # once, never twice


class _Hostile(asyncio.DatagramProtocol):
    """Logs the client in, then answers every command with garbage, a forged sequence
    number and a flood of parts that never complete."""

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        packet = be.decode(data, from_server=False)
        if packet.type == be.LOGIN:
            self.transport.sendto(be.encode(be.LOGIN, b"\x01"), addr)
            return
        if packet.type != be.COMMAND or packet.body == b"":
            return
        for _ in range(200):
            self.transport.sendto(b"BE\x00garbage", addr)
        self.transport.sendto(be.encode(be.COMMAND, bytes(((packet.seq + 1) % 256,)) + b"forged"),
                              addr)
        for index in range(0, 254):  # 254 of 255 parts: never complete
            self.transport.sendto(be.encode(be.COMMAND, bytes((packet.seq, 0, 255, index))
                                            + b"x" * 100), addr)


def test_a_hostile_server_cannot_hang_or_mislead_the_adapter():
    async def scenario():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(_Hostile,
                                                           local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        a = adapter(port)
        started = time.monotonic()
        with pytest.raises(AdapterTimeout):
            await a.execute("give Steve diamond 1")
        elapsed = time.monotonic() - started
        dropped = a.dropped
        await a.close()
        transport.close()
        return elapsed, dropped

    elapsed, dropped = asyncio.run(scenario())
    assert elapsed < 3
    assert dropped >= 201  # the garbage and the forged answer were dropped


def test_the_players_table_parser_skips_headers_and_lobby_marks():
    table = ("Players on server:\n[#] [IP Address]:[Port] [Ping] [GUID] [Name]\n----\n"
             "0   1.2.3.4:2304    47   0123456789abcdef0123456789abcdef(OK) Steve\n"
             "1   1.2.3.5:2304    -1   -  Alex (Lobby)\n(2 players in total)")
    assert [p.name for p in parse_players(table)] == ["Steve", "Alex"]
