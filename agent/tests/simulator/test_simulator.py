"""The simulator as other processes see it: control channel, command line, log file."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import shopkeep_agent
from shopkeep_agent.adapters import AdapterAuthError, Player, create_adapter
from shopkeep_agent.simulator import main, parse_log_line, run_simulator, send_control
from shopkeep_agent.simulator.world import offline_uuid

AGENT_SRC = str(Path(shopkeep_agent.__file__).resolve().parents[1])


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [AGENT_SRC, env.get("PYTHONPATH")]))
    return env


async def simulate(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shopkeep_agent.simulator",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(),
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


def test_players_join_and_leave_from_another_process():
    async def scenario():
        async with run_simulator(rcon_password="pw", control_port=0) as sim:
            port = str(sim.control_port)
            adapter = create_adapter(
                {"type": "source_rcon", "port": sim.rcon_port, "password": "pw"}
            )
            async with adapter:
                assert not await adapter.is_online(Player("Bob"))
                joined = await simulate("join", "Bob", "--control-port", port)
                online = await adapter.is_online(Player("bob"))
                left = await simulate("leave", "Bob", "--control-port", port)
                gone = await adapter.is_online(Player("Bob"))
                missing = await simulate("leave", "Bob", "--control-port", port)
                hostile = await simulate("join", "Bob;op Bob", "--control-port", port)
                listed = await simulate("players", "--control-port", port)
            return joined, online, left, gone, missing, hostile, listed, sim.world.online

    joined, online, left, gone, missing, hostile, listed, final = asyncio.run(scenario())
    assert joined[0] == 0 and json.loads(joined[1])["player"]["uuid"] == offline_uuid("Bob")
    assert online is True
    assert left[0] == 0 and gone is False
    assert missing[0] == 1 and "not online" in missing[2]
    assert hostile[0] == 1 and "invalid player name" in hostile[2]
    assert json.loads(listed[1]) == {"ok": True, "players": []}
    assert final == {}


def test_control_command_without_a_simulator_fails_clearly(unused_port):
    code, _, err = asyncio.run(simulate("join", "Bob", "--control-port", str(unused_port)))
    assert code == 2 and "cannot reach" in err


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_simulator_process_serves_logs_every_command_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "commands.log"
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "shopkeep_agent.simulator",
            "--rcon-port",
            "0",
            "--rcon-password",
            "pw",
            "--webrcon-port",
            "0",
            "--control-port",
            "0",
            "--log",
            str(log),
            "--players",
            "Steve,Alex",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        text=True,
    )
    try:
        ready = json.loads(process.stdout.readline())

        async def scenario():
            rcon = create_adapter(
                {"type": "source_rcon", "port": ready["rcon_port"], "password": "pw"}
            )
            web = create_adapter(
                {"type": "webrcon", "port": ready["webrcon_port"], "password": "pw"}
            )
            async with rcon, web:
                await rcon.execute("give Steve diamond 64")
                await rcon.execute("say a\tb")
                await web.execute("kick Alex")
                wrong = create_adapter(
                    {"type": "source_rcon", "port": ready["rcon_port"], "password": "nope"}
                )
                with pytest.raises(AdapterAuthError):
                    await wrong.execute("op Mallory")
                return await send_control(ready["control_port"], {"op": "players"})

        players = asyncio.run(scenario())
        lines = log.read_text(encoding="utf-8").splitlines()  # read while still running
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    assert ready["ready"] is True
    assert [p["name"] for p in players["players"]] == ["Steve"]
    parsed = [parse_log_line(line) for line in lines]
    assert [(transport, command) for _, transport, command in parsed] == [
        ("rcon", "give Steve diamond 64"),
        ("rcon", "say a\\x09b"),
        ("webrcon", "kick Alex"),
    ]
    for stamp, _, _ in parsed:
        assert dt.datetime.fromisoformat(stamp).tzinfo is not None
    assert code == 0


def test_main_refuses_to_serve_without_a_password(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--rcon-port", "0"])
    assert caught.value.code == 2
    assert "--rcon-password" in capsys.readouterr().err


def test_log_lines_are_appended_across_runs(tmp_path):
    log = tmp_path / "log"

    async def run_once(command):
        async with (
            run_simulator(rcon_password="pw", log=log) as sim,
            create_adapter(
                {"type": "source_rcon", "port": sim.rcon_port, "password": "pw"}
            ) as adapter,
        ):
            await adapter.execute(command)

    asyncio.run(run_once("op Steve"))
    asyncio.run(run_once("op Alex"))
    commands = [parse_log_line(line)[2] for line in log.read_text().splitlines()]
    assert commands == ["op Steve", "op Alex"]
