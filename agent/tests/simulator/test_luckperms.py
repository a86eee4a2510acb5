"""The simulator's LuckPerms basics: what a store's purchase and refund commands use, so a
demo refund (`lp user X parent remove vip`) succeeds instead of failing."""

from __future__ import annotations

from shopkeep_agent.simulator.minecraft import MinecraftConsole
from shopkeep_agent.simulator.world import World


def _console() -> tuple[World, MinecraftConsole]:
    world = World()
    world.join("Steve")
    return world, MinecraftConsole(world)


def test_a_refund_removes_the_group_a_purchase_added():
    world, mc = _console()
    mc.run("lp user Steve parent add vip")
    answer = mc.run("lp user Steve parent remove vip")
    assert answer == "[LP] Steve no longer inherits permissions from vip in context global."
    assert world.groups["steve"] == set()
    assert mc.run("lp user Steve parent remove vip") == (
        "[LP] Steve does not inherit from vip in context global.")


def test_parent_set_replaces_every_group_and_addtemp_checks_the_duration():
    world, mc = _console()
    mc.run("lp user Steve parent add vip")
    mc.run("lp user Steve parent add mvp")
    assert "now only inherits gold" in mc.run("lp user Steve parent set gold")
    assert world.groups["steve"] == {"gold"}
    assert mc.run("lp user Steve parent addtemp elite 30d").endswith(
        "from elite for a duration of 30d in context global.")
    assert mc.run("lp user Steve parent addtemp elite soon") == "[LP] Invalid duration: soon"


def test_permissions_are_set_and_unset_per_node():
    world, mc = _console()
    assert mc.run("lp user Steve permission set essentials.fly") == (
        "[LP] Set essentials.fly to true for Steve in context global.")
    assert mc.run("lp user Steve permission set essentials.fly true") == (
        "[LP] Steve already has essentials.fly set in context global.")
    assert mc.run("lp user Steve permission set kits.vip false").startswith("[LP] Set kits.vip "
                                                                             "to false")
    assert world.permissions["steve"] == {"essentials.fly": True, "kits.vip": False}
    assert mc.run("lp user Steve permission unset essentials.fly") == (
        "[LP] Unset essentials.fly for Steve in context global.")
    assert mc.run("lp user Steve permission unset essentials.fly").startswith(
        "[LP] Steve does not have")


def test_info_lists_groups_and_nodes_and_unknown_forms_change_nothing():
    world, mc = _console()
    mc.run("lp user Steve parent add vip")
    info = mc.run("lp user Steve info")
    assert "[LP] > User Info: Steve" in info and "[LP]     > vip" in info
    before = (dict(world.groups), dict(world.permissions))
    for bad in ("lp user Steve parent", "lp user Steve parent frobnicate vip",
                "lp user Steve permission set", "lp group vip info", "lp user Steve"):
        assert mc.run(bad) == "[LP] Command not recognised.", bad
    assert mc.run("lp user Nobody parent remove vip") == (
        "[LP] A user for Nobody could not be found.")
    assert (dict(world.groups), dict(world.permissions)) == before
