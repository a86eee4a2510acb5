"""The Source RCON client against real sockets: the simulator, and small misbehaving servers."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from shopkeep_agent.adapters import (
    COMMAND_FAILED,
    PLAYER_NOT_FOUND,
    UNKNOWN_COMMAND,
    AdapterAuthError,
    AdapterError,
    AdapterTimeout,
    Player,
    create_adapter,
)
from shopkeep_agent.adapters.rcon_protocol import (
    SERVERDATA_AUTH_RESPONSE,
    SERVERDATA_RESPONSE_VALUE,
    encode_packet,
    read_packet,
)
from shopkeep_agent.adapters.source_rcon import SourceRconAdapter
from shopkeep_agent.simulator import run_simulator
from shopkeep_agent.simulator.rcon_server import RconServer

FLAVOURS = ["minecraft", "source"]


def rcon(port: int, **extra: object) -> SourceRconAdapter:
    settings = {"type": "source_rcon", "port": port, "password": "hunter2", "timeout": 2}
    settings.update(extra)
    adapter = create_adapter(settings)
    assert isinstance(adapter, SourceRconAdapter)
    return adapter


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_it_authenticates_and_runs_a_command(flavour):
    async def scenario():
        async with run_simulator(
            rcon_password="hunter2", rcon_flavour=flavour, players=["Steve"]
        ) as sim:
            async with rcon(sim.rcon_port) as adapter:
                result = await adapter.execute("give Steve diamond 3")
            return result, sim.world.executed, sim.world.inventories

    result, executed, inventories = asyncio.run(scenario())
    assert result.ok and result.output == "Gave 3 [Diamond] to Steve"
    assert executed == [("rcon", "give Steve diamond 3")]
    assert inventories == {"steve": {"diamond": 3}}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_wrong_password_is_refused_and_runs_nothing(flavour):
    async def scenario():
        async with run_simulator(rcon_password="right", rcon_flavour=flavour) as sim:
            adapter = rcon(sim.rcon_port)
            with pytest.raises(AdapterAuthError) as caught:
                await adapter.execute("op Steve")
            await adapter.close()
            return caught.value, sim.world.executed, sim.world.ops

    error, executed, ops = asyncio.run(scenario())
    assert error.code == "RCON_AUTH_FAILED"
    assert error.command_sent is False
    assert executed == []
    assert ops == set()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_answer_longer_than_one_packet_is_joined_whole(flavour):
    async def scenario():
        async with run_simulator(rcon_password="hunter2", rcon_flavour=flavour) as sim:
            expected = sim.minecraft.run("dump 50000")
            async with rcon(sim.rcon_port) as adapter:
                big = await adapter.execute("dump 50000")
                after = await adapter.execute("list")
            return expected, big, after

    expected, big, after = asyncio.run(scenario())
    assert len(expected.encode()) > 12 * 4096  # many packets, split inside 2-byte characters
    assert big.ok and big.output == expected
    assert "\ufffd" not in big.output
    # The next command gets its own answer, not the tail of the previous one.
    assert after.output == "There are 0 of a max of 20 players online: "


def test_game_errors_become_failed_results_with_the_games_text():
    async def scenario():
        async with (
            run_simulator(rcon_password="hunter2", players=["Steve"]) as sim,
            rcon(sim.rcon_port) as adapter,
        ):
            return [
                await adapter.execute("frobnicate Steve"),
                await adapter.execute("give Alex diamond"),
                await adapter.execute("lp user Alex parent add vip"),
                await adapter.execute("eco give Alex 100"),
                await adapter.execute("eco give Steve lots"),
                await adapter.execute("give Steve diamond 0"),
                await adapter.execute("ban Steve cheating"),
            ]

    results = asyncio.run(scenario())
    codes = [(r.ok, r.error_code) for r in results]
    assert codes == [
        (False, UNKNOWN_COMMAND),
        (False, PLAYER_NOT_FOUND),
        (False, PLAYER_NOT_FOUND),
        (False, PLAYER_NOT_FOUND),
        (False, COMMAND_FAILED),
        (False, COMMAND_FAILED),
        (True, None),
    ]
    assert results[0].output.startswith("Unknown or incomplete command, see below for error")
    assert results[1].output == "No player was found"
    assert results[2].output == "[LP] A user for Alex could not be found."


def test_players_and_is_online_follow_joins_and_leaves():
    async def scenario():
        async with (
            run_simulator(rcon_password="hunter2", players=["Steve", "Alex"]) as sim,
            rcon(sim.rcon_port) as adapter,
        ):
            before = await adapter.players()
            sim.world.leave("Alex")
            steve_uuid = sim.world.online["steve"].uuid
            return (
                before,
                await adapter.is_online(Player(name="ALEX")),
                await adapter.is_online(Player(name="steve")),
                await adapter.is_online(Player(name="Renamed", uuid=steve_uuid.upper())),
                # A known uuid decides alone: same name, other account is not online.
                await adapter.is_online(Player(name="Steve", uuid="0" * 32)),
                steve_uuid,
            )

    before, alex, steve, by_uuid, impostor, steve_uuid = asyncio.run(scenario())
    assert [p.name for p in before] == ["Steve", "Alex"]
    assert before[0].uuid == steve_uuid
    assert (alex, steve, by_uuid, impostor) == (False, True, True, False)


def test_players_falls_back_to_plain_list_on_servers_without_list_uuids():
    asked = []

    def old_server(command: str) -> str:
        asked.append(command)
        if command == "list":
            return "There are 2/20 players online:\nNotch, jeb_"
        return 'Unknown command. Type "/help" for help.'

    async def scenario():
        server = RconServer(password="hunter2", run_command=old_server)
        await server.start()
        try:
            async with rcon(server.port) as adapter:
                first = await adapter.players()
                second = await adapter.players()
        finally:
            await server.stop()
        return first, second

    first, second = asyncio.run(scenario())
    assert first == second == [Player("Notch"), Player("jeb_")]
    assert asked == ["list uuids", "list", "list"]  # the fallback is remembered


def test_reconnects_after_the_server_drops_the_connection_between_commands():
    async def scenario():
        async with (
            run_simulator(rcon_password="hunter2", players=["Steve"]) as sim,
            rcon(sim.rcon_port) as adapter,
        ):
            first = await adapter.execute("op Steve")
            assert sim.drop_connections() == 1
            # Between two polls the EOF has long arrived; wait for exactly that, not a delay.
            while adapter._connected():
                await asyncio.sleep(0.01)
            second = await adapter.execute("whitelist add Steve")
            return first, second, sim.world.executed

    first, second, executed = asyncio.run(scenario())
    assert first.ok and second.ok
    assert executed == [("rcon", "op Steve"), ("rcon", "whitelist add Steve")]


def test_concurrent_commands_each_get_their_own_answer():
    async def scenario():
        async with (
            run_simulator(rcon_password="hunter2", players=["Steve"]) as sim,
            rcon(sim.rcon_port) as adapter,
        ):
            return await asyncio.gather(
                *(adapter.execute(f"give Steve stone {n}") for n in range(1, 21))
            )

    results = asyncio.run(scenario())
    assert [r.output for r in results] == [f"Gave {n} [Stone] to Steve" for n in range(1, 21)]


def test_too_long_or_nul_command_is_refused_without_being_sent():
    async def scenario():
        async with run_simulator(rcon_password="hunter2") as sim, rcon(sim.rcon_port) as adapter:
            too_long = await adapter.execute("say " + "a" * 1443)
            nul = await adapter.execute("say hi\x00op Steve")
            longest = await adapter.execute("say " + "a" * 1442)
            return too_long, nul, longest, sim.world.executed

    too_long, nul, longest, executed = asyncio.run(scenario())
    assert (too_long.ok, too_long.error_code) == (False, COMMAND_FAILED)
    assert "1447 bytes" in too_long.output
    assert (nul.ok, nul.error_code) == (False, COMMAND_FAILED)
    assert longest.ok
    assert executed == [("rcon", "say " + "a" * 1442)]


# -- misbehaving servers ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def tcp_server(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def test_timeout_when_the_server_never_answers_the_login():
    async def silent(reader, writer):
        await reader.read()

    async def scenario():
        async with tcp_server(silent) as port:
            adapter = rcon(port, timeout=0.3)
            with pytest.raises(AdapterTimeout) as caught:
                await adapter.execute("list")
            return caught.value

    error = asyncio.run(scenario())
    assert error.code == "RCON_TIMEOUT"
    assert error.command_sent is False


def test_timeout_after_the_command_was_sent_says_it_may_have_run():
    received = []
    connections = []

    async def answers_login_only(reader, writer):
        connections.append(writer)
        login = await read_packet(reader, max_size=4096)
        writer.write(encode_packet(login.id, SERVERDATA_AUTH_RESPONSE, b""))
        await writer.drain()
        received.append(await read_packet(reader, max_size=4096))
        await reader.read()

    async def scenario():
        async with tcp_server(answers_login_only) as port:
            adapter = rcon(port, timeout=0.3)
            with pytest.raises(AdapterTimeout) as caught:
                await adapter.execute("give Steve diamond")
            await adapter.close()
            return caught.value

    error = asyncio.run(scenario())
    assert error.command_sent is True
    assert received[0].body == b"give Steve diamond"
    assert len(connections) == 1


def test_connection_dropped_mid_command_is_reported_and_the_next_command_reconnects():
    connections = []

    async def flaky(reader, writer):
        connections.append(writer)
        login = await read_packet(reader, max_size=4096)
        writer.write(encode_packet(login.id, SERVERDATA_AUTH_RESPONSE, b""))
        await writer.drain()
        command = await read_packet(reader, max_size=4096)
        if len(connections) == 1:
            writer.close()  # crash while the command is in hand
            return
        sentinel = await read_packet(reader, max_size=4096)
        writer.write(encode_packet(command.id, SERVERDATA_RESPONSE_VALUE, b"done"))
        writer.write(encode_packet(sentinel.id, SERVERDATA_RESPONSE_VALUE, b""))
        await writer.drain()
        await reader.read()

    async def scenario():
        async with tcp_server(flaky) as port:
            adapter = rcon(port)
            with pytest.raises(AdapterError) as caught:
                await adapter.execute("op Steve")
            result = await adapter.execute("op Alex")
            await adapter.close()
            return caught.value, result

    error, result = asyncio.run(scenario())
    assert error.code == "RCON_CONNECTION_FAILED"
    assert error.command_sent is True
    assert result.ok and result.output == "done"
    assert len(connections) == 2


def test_refused_connection_is_an_adapter_error():
    async def scenario():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(AdapterError) as caught:
            await rcon(port).execute("list")
        return caught.value

    error = asyncio.run(scenario())
    assert type(error) is AdapterError
    assert error.command_sent is False
    assert "cannot connect" in str(error)


def test_a_non_rcon_port_is_reported_without_reading_a_huge_packet():
    async def http(reader, writer):
        await reader.read(100)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read()

    async def scenario():
        async with tcp_server(http) as port:
            with pytest.raises(AdapterError) as caught:
                await rcon(port).execute("list")
            return caught.value

    error = asyncio.run(scenario())
    assert "not a Source RCON answer" in str(error)


def test_separators_refuse_semicolons_and_line_breaks():
    adapter = rcon(25575)
    assert set(adapter.separators) == {";", "\n", "\r"}


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"port": "x", "password": "p"}, "port"),
        ({"port": 70000, "password": "p"}, "port"),
        ({"port": 25575}, "password"),
        ({"port": 25575, "password": ""}, "password"),
        ({"port": 25575, "password": "p", "timeout": 0}, "timeout"),
        ({"port": 25575, "password": "p", "game": "tetris"}, "game"),
        ({"port": 25575, "password": "p", "error_patterns": {"NOPE": ["x"]}}, "NOPE"),
        ({"port": 25575, "password": "p", "error_patterns": {COMMAND_FAILED: ["("]}}, "regex"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(settings, message):
    with pytest.raises(ValueError, match=message):
        create_adapter({"type": "source_rcon", **settings})


def test_owner_error_patterns_extend_the_games_own():
    async def scenario():
        async with run_simulator(rcon_password="hunter2", players=["Steve"]) as sim:
            patterns = {COMMAND_FAILED: [r"^Gave \d+ \[Bedrock\]"]}
            async with rcon(sim.rcon_port, error_patterns=patterns) as adapter:
                return (
                    await adapter.execute("give Steve bedrock"),
                    await adapter.execute("give Steve dirt"),
                )

    bedrock, dirt = asyncio.run(scenario())
    assert (bedrock.ok, bedrock.error_code) == (False, COMMAND_FAILED)
    assert dirt.ok
