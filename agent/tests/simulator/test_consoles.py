"""The simulated game's answers, compared with the real games' wording."""

from __future__ import annotations

import json

from shopkeep_agent.simulator.minecraft import MinecraftConsole
from shopkeep_agent.simulator.rust import RustConsole
from shopkeep_agent.simulator.world import World, offline_uuid


def test_offline_uuid_matches_minecraft():
    # The uuid an offline-mode server assigns to "Notch" (well known from server logs).
    assert offline_uuid("Notch") == "b50ad385-829d-3141-a216-7e7d7539ba7f"


def test_minecraft_commands_change_the_world_and_answer_like_vanilla():
    world = World()
    world.join("Steve")
    mc = MinecraftConsole(world)
    assert mc.run("list") == "There are 1 of a max of 20 players online: Steve"
    assert mc.run("give Alex diamond") == "No player was found"
    assert mc.run("op Steve") == "Made Steve a server operator"
    assert mc.run("op Steve") == "Nothing changed. The player already is an operator"
    assert mc.run("whitelist add Steve") == "Added Steve to the whitelist"
    assert mc.run("eco give Steve 50") == "$50 added to Steve account. New balance: $50"
    assert mc.run("kick Steve spamming") == "Kicked Steve: spamming"
    assert world.online == {}
    # Plugins know players who have been online before; vanilla ban looks up any name.
    assert mc.run("lp user Steve parent add vip").startswith("[LP] Steve now inherits")
    assert mc.run("ban Mallory") == "Banned Mallory: Banned by an operator."
    assert mc.run("ban Mallory") == "Nothing changed. The player is already banned"
    assert mc.run("xyzzy").startswith("Unknown or incomplete command, see below for error")
    assert mc.run("give  Steve diamond").endswith("<--[HERE]")


def test_rust_playerlist_is_json_like_rusts():
    world = World()
    world.join("Steve")
    rust = RustConsole(world)
    rows = json.loads(rust.run("playerlist"))
    assert [(r["DisplayName"], r["SteamID"]) for r in rows] == [
        ("Steve", world.online["steve"].steam_id)
    ]
    assert rust.run("nosuch.command arg") == "Command 'nosuch.command' not found"
    assert rust.run("kick Nobody") == "Player not found"


def test_banned_players_cannot_join():
    world = World()
    MinecraftConsole(world).run("ban Griefer")
    try:
        world.join("Griefer")
    except ValueError as exc:
        assert "banned" in str(exc)
    else:
        raise AssertionError("a banned player joined")
