"""The Pterodactyl / Pelican client API adapter against a local fake panel."""

from __future__ import annotations

import asyncio

import pytest
from shopkeep_agent.adapters import AdapterAuthError, AdapterError, Player, create_adapter
from shopkeep_agent.adapters.panel import PanelAdapter
from shopkeep_agent.simulator import run_simulator


def adapter(port: int, key: str = "ptlc_simulator", **extra) -> PanelAdapter:
    made = create_adapter({"type": "panel", "url": f"http://127.0.0.1:{port}",
                           "server": "1a2b3c4d", "api_key": key, "timeout": 2, **extra})
    assert isinstance(made, PanelAdapter)
    return made


def test_commands_go_through_the_client_api():
    async def scenario():
        async with run_simulator(rcon_port=None, panel_port=0) as sim:
            a = adapter(sim.ports()["panel_port"])
            await a.connect()
            result = await a.execute("lp user Steve parent add vip")
            await a.close()
            return result, sim.world.executed, sim.extra["panel"].requests

    result, executed, requests = asyncio.run(scenario())
    assert result.ok
    assert executed == [("panel", "lp user Steve parent add vip")]
    assert requests == [("GET", "/api/client/servers/1a2b3c4d/resources", 200),
                        ("POST", "/api/client/servers/1a2b3c4d/command", 204)]


def test_a_wrong_key_is_an_auth_error():
    async def scenario():
        async with run_simulator(rcon_port=None, panel_port=0) as sim:
            a = adapter(sim.ports()["panel_port"], key="ptlc_wrong")
            with pytest.raises(AdapterAuthError):
                await a.execute("say hi")
            return sim.world.executed

    assert asyncio.run(scenario()) == []


def test_an_offline_server_sends_nothing_and_may_be_retried():
    async def scenario():
        async with run_simulator(rcon_port=None, panel_port=0) as sim:
            sim.extra["panel"].state = "offline"
            a = adapter(sim.ports()["panel_port"])
            with pytest.raises(AdapterError) as connecting:
                await a.connect()
            with pytest.raises(AdapterError) as sending:
                await a.execute("say hi")
            return connecting.value, sending.value, sim.world.executed

    connecting, sending, executed = asyncio.run(scenario())
    assert "offline" in str(connecting) and sending.command_sent is False
    assert "must be online" in str(sending) and executed == []


def test_a_panel_that_never_answers_after_taking_the_command_is_an_unknown_outcome():
    async def scenario():
        async with run_simulator(rcon_port=None, panel_port=0) as sim:
            sim.extra["panel"].hang = True
            a = adapter(sim.ports()["panel_port"], timeout=1)
            with pytest.raises(AdapterError) as info:
                await a.execute("say hi")
            return info.value

    assert asyncio.run(scenario()).command_sent is True


def test_an_unknown_server_and_bad_settings_are_refused():
    async def scenario():
        async with run_simulator(rcon_port=None, panel_port=0) as sim:
            a = create_adapter({"type": "panel", "url": f"http://127.0.0.1:"
                                f"{sim.ports()['panel_port']}", "server": "ffffffff",
                                "api_key": "ptlc_simulator"})
            with pytest.raises(AdapterError) as info:
                await a.connect()
            return info.value

    assert "no server" in str(asyncio.run(scenario()))
    for bad in ({"server": "../x"}, {"api_key": "has space"}, {"url": "ftp://x"},
                {"players": {"type": "panel"}}):
        settings = {"type": "panel", "url": "https://panel.example.com", "server": "1a2b3c4d",
                    "api_key": "ptlc_x", **bad}
        with pytest.raises(ValueError):
            create_adapter(settings)


def test_without_a_player_source_nobody_is_waited_for():
    a = adapter(1)
    assert a.knows_players is False
    assert asyncio.run(a.is_online(Player(name="Steve"))) is True


def test_players_come_from_the_games_own_rcon_when_configured():
    async def scenario():
        async with run_simulator(rcon_password="pw", panel_port=0, players=["Steve"]) as sim:
            a = adapter(sim.ports()["panel_port"],
                        players={"type": "source_rcon", "port": sim.rcon_port, "password": "pw"})
            players = await a.players()
            await a.close()
            return a.knows_players, players

    knows, players = asyncio.run(scenario())
    assert knows is True and [p.name for p in players] == ["Steve"]
