"""shopkeep-agent against the real platform, in separate processes: uvicorn on a SQLite file,
the game-server simulator (real Source RCON), and the agent's own `run` command."""

from __future__ import annotations

import os
import signal

import pytest

from tests.e2e.agent_world import World, migrate_var_dir, wait_for

# These tests run their own platform on a SQLite file whatever the suite's database is; the
# PostgreSQL pass of `make test` would only repeat them.
pytestmark = pytest.mark.skipif(
    os.environ.get("SHOPKEEP_DATABASE_URL", "").startswith("postgres"),
    reason="runs once, on the SQLite pass")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    var = tmp_path_factory.mktemp("migrated") / "var"
    migrate_var_dir(var)
    return var


@pytest.fixture
def world(tmp_path, migrated):
    w = World(tmp_path)
    try:
        w.setup(template=migrated)
        w.start_platform()
        w.start_simulator()
        yield w
    finally:
        w.close()


def _buy(world: World, product: str, player: str = "Steve") -> str:
    return world.ctl("buy", "--product", str(world.shop[product]), "--player", player)["orders"][0]


def _commands(world: World, order: str) -> list[dict]:
    return [c for c in world.status()["commands"] if c["order"] == order]


def test_a_purchase_runs_once_is_confirmed_and_the_order_is_delivered(world):
    agent = world.start_agent()
    order = _buy(world, "kit")
    wait_for(lambda: world.status()["orders"][order]["status"] == "completed",
             what="order completed")
    status = world.status()
    (command,) = [c for c in status["commands"] if c["order"] == order]
    assert (command["status"], command["attempt_count"]) == ("completed", 1)
    assert command["executed_by"].startswith("ska-")
    assert status["orders"][order]["items"] == ["delivered"]
    assert {"type": "delivery.completed", "order": order} in status["events"]
    assert world.executed() == [f"say kit {order} for Steve"]

    # SIGTERM while idle in a long-poll: a clean, prompt exit; nothing runs again.
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(timeout=30) == 0
    assert "stopped" in world.agent_log()
    world.start_agent()
    second = _buy(world, "kit")
    wait_for(lambda: world.status()["orders"][second]["status"] == "completed")
    assert world.executed() == [f"say kit {order} for Steve", f"say kit {second} for Steve"]


def test_wait_for_online_runs_only_when_the_player_joins_and_a_refund_runs_at_once(world):
    world.start_agent()
    order = _buy(world, "vip", player="Alex")
    wait_for(lambda: "waits for Alex" in world.agent_log(), what="agent saw the command")
    # Several online checks pass while Alex is away; nothing runs.
    checks = len(world.sim_log.read_text().splitlines())
    wait_for(lambda: len(world.sim_log.read_text().splitlines()) >= checks + 3,
             what="more online checks")
    assert world.executed() == []
    assert _commands(world, order)[0]["status"] == "pending"

    before_join = len(world.sim_log.read_text().splitlines())
    world.sim("join", "Alex")
    wait_for(lambda: world.executed() == ["give Alex diamond 1"], what="delivery on join")
    lines = world.sim_log.read_text().splitlines()[before_join:]
    give = next(i for i, line in enumerate(lines) if "give Alex diamond 1" in line)
    # Within one poll: the first online check after the join (a list, then the check right
    # before execution) runs it; a heartbeat may add one more list.
    assert sum("rcon list" in line for line in lines[:give]) <= 3
    wait_for(lambda: world.status()["orders"][order]["status"] == "completed")

    world.sim("leave", "Alex")
    world.ctl("refund", "--order", order)
    wait_for(lambda: f"say refund {order} for Alex" in world.executed(),
             what="refund command ran while Alex is offline")
    wait_for(lambda: all(c["status"] == "completed" for c in _commands(world, order)))
    assert world.executed() == ["give Alex diamond 1", f"say refund {order} for Alex"]


def test_a_hostile_player_name_never_reaches_the_game(world):
    # First line: the platform refuses the name at checkout.
    with pytest.raises(AssertionError, match='"error": "invalid_player"'):
        world.ctl("buy", "--product", str(world.shop["kit"]), "--player", "Steve;op Steve")
    # Last line: a hostile value that got into a queued command anyway (an old row, an
    # import) is refused by the agent, reported, and never sent.
    orders = [_buy(world, "kit") for _ in range(2)]
    ids = [_commands(world, o)[0]["id"] for o in orders]
    world.ctl("poison", "--command", str(ids[0]), "--player", "Steve;op Steve")
    world.ctl("poison", "--command", str(ids[1]), "--player", "Steve\nop Steve")
    world.start_agent()
    wait_for(lambda: all(c["status"] == "failed" for c in world.status()["commands"]),
             what="both refused")
    for command in world.status()["commands"]:
        assert (command["error_code"], command["attempt_count"]) == ("UNSAFE_PLACEHOLDER", 1)
    assert world.executed() == []
    assert "op Steve" not in world.sim_log.read_text()


def test_a_second_agent_with_the_same_secrets_is_refused_and_executes_nothing(world):
    world.start_agent("first")
    first = _buy(world, "kit")
    wait_for(lambda: world.status()["orders"][first]["status"] == "completed")
    world.start_agent("second")  # same secrets, its own journal: another instance
    wait_for(lambda: "another agent instance is active" in world.agent_log("second"),
             what="second agent refused")
    orders = [_buy(world, "kit") for _ in range(3)]
    wait_for(lambda: all(world.status()["orders"][o]["status"] == "completed" for o in orders))
    executed_by = {c["executed_by"] for c in world.status()["commands"]}
    assert len(executed_by) == 1
    assert sorted(world.executed()) == sorted(f"say kit {o} for Steve" for o in [first, *orders])
    assert "ran #" not in world.agent_log("second")
    assert "ran #" in world.agent_log("first")


def test_a_wrong_secret_is_logged_once_and_polling_resumes_when_the_config_is_fixed(world):
    world.agent_config("agent", server_secret="srv_wrong")
    world.start_agent()
    wait_for(lambda: "refused the store/server secrets" in world.agent_log(), what="refusal")
    order = _buy(world, "kit")
    config = world.tmp / "agent" / "shopkeep-agent.toml"
    assert world.agent_log().count("refused the store/server secrets") == 1
    assert world.executed() == []
    config.write_text(config.read_text().replace("srv_wrong", world.shop["server_secret"]))
    wait_for(lambda: world.status()["orders"][order]["status"] == "completed",
             what="delivery after the fix")
    assert world.executed() == [f"say kit {order} for Steve"]
    assert world.agent_log().count("refused the store/server secrets") == 1


def test_after_a_crash_mid_command_a_safe_one_runs_again_and_an_unsafe_one_awaits_review(world):
    """What a SIGKILL between "started" and the result leaves in the journal, replayed
    deterministically: the platform runs the rest for real."""
    from shopkeep_agent.journal import Journal

    safe_order = _buy(world, "rank")
    unsafe_order = _buy(world, "kit", player="Alex")
    (safe,) = _commands(world, safe_order)
    (unsafe,) = _commands(world, unsafe_order)
    world.agent_config()
    journal = Journal(str(world.tmp / "agent" / "shopkeep-agent-journal.sqlite3"))
    for command, flag in ((safe, True), (unsafe, False)):
        assert journal.start(command_id=command["id"], attempt=1, type="purchase",
                             player="", command=command["text"], safe_to_repeat=flag)
    journal.close()  # the agent "died" here, with both in flight
    world.sim("join", "Steve")  # LuckPerms knows players who have joined once
    world.start_agent()
    try:
        wait_for(lambda: world.status()["orders"][safe_order]["status"] == "completed",
                 timeout=60, what="the safe command ran again and was confirmed")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{world.agent_log()[-3000:]}\n{world.status()}") from None
    wait_for(lambda: _commands(world, unsafe_order)[0]["status"] == "needs_review",
             what="the unsafe one awaits review")
    status = world.status()
    assert world.executed() == [f"lp user Steve parent add rank-{safe_order}"]
    assert status["orders"][unsafe_order]["status"] == "processing"
    assert not [e for e in status["events"] if e["type"] == "delivery.failed"]
    assert _commands(world, unsafe_order)[0]["error_code"] == "AGENT_CRASHED_DURING_EXECUTION"
