"""Each new game adapter end to end: the real platform, the simulator speaking that game's
wire protocol (BattlEye UDP, Quake-style UDP rcon, 7DTD telnet, a fake Pterodactyl panel),
and the agent's own `run` command, as separate processes."""

from __future__ import annotations

import os

import pytest

from tests.e2e.agent_world import RCON_PASSWORD, World, migrate_var_dir, wait_for

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOPKEEP_DATABASE_URL", "").startswith("postgres"),
    reason="runs once, on the SQLite pass")

PANEL_KEY = "ptlc_e2eKey0123456789"

ADAPTERS = {
    # adapter: (simulator flag, port key, [game] TOML given the port, knows who is online)
    "battleye": ("--battleye-port", "battleye_port",
                 lambda p: f'type = "battleye"\nport = {p}\npassword = "{RCON_PASSWORD}"\n', True),
    "udp_rcon": ("--udp-rcon-port", "udp_rcon_port",
                 lambda p: f'type = "udp_rcon"\nport = {p}\npassword = "{RCON_PASSWORD}"\n'
                           'game = "fivem"\n', True),
    "telnet": ("--telnet-port", "telnet_port",
               lambda p: f'type = "telnet"\nport = {p}\npassword = "{RCON_PASSWORD}"\n', True),
    "panel": ("--panel-port", "panel_port",
              lambda p: f'type = "panel"\nurl = "http://127.0.0.1:{p}"\nserver = "1a2b3c4d"\n'
                        f'api_key = "{PANEL_KEY}"\n', False),
}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    var = tmp_path_factory.mktemp("migrated") / "var"
    migrate_var_dir(var)
    return var


def _transports(world: World) -> list[tuple[str, str]]:
    from shopkeep_agent.simulator.world import parse_log_line

    if not world.sim_log.exists():
        return []
    rows = [parse_log_line(line) for line in world.sim_log.read_text().splitlines() if line]
    return [(transport, command) for _, transport, command in rows]


@pytest.mark.parametrize("kind", list(ADAPTERS))
def test_purchases_run_once_through_the_adapter_and_wait_for_the_player(kind, tmp_path,
                                                                        migrated):
    flag, port_key, game, knows_players = ADAPTERS[kind]
    world = World(tmp_path)
    try:
        world.setup(template=migrated)
        world.start_platform()
        world.start_simulator(extra=(flag, "0", "--panel-api-key", PANEL_KEY))
        world.agent_config(game="[game]\n" + game(world.sim_ports[port_key]) + "timeout = 5\n")
        world.start_agent()
        kit = world.ctl("buy", "--product", str(world.shop["kit"]), "--player", "Steve")
        kit = kit["orders"][0]
        wait_for(lambda: world.status()["orders"][kit]["status"] == "completed", timeout=60,
                 what=f"{kind}: kit delivered")
        vip = world.ctl("buy", "--product", str(world.shop["vip"]), "--player", "Alex")
        vip = vip["orders"][0]
        if knows_players:
            # Alex is offline: the wait-for-online command waits until he joins.
            wait_for(lambda: any(c["order"] == vip for c in world.status()["commands"]))
            assert world.status()["orders"][vip]["status"] == "processing"
            world.sim("join", "Alex")
        wait_for(lambda: world.status()["orders"][vip]["status"] == "completed", timeout=60,
                 what=f"{kind}: vip delivered")
        ran = [(t, c) for t, c in _transports(world) if not c.startswith("list")]
        assert ran == [(kind, f"say kit {kit} for Steve"), (kind, "give Alex diamond 1")]
        assert "AGENT_CRASHED" not in world.agent_log()
    finally:
        world.close()
