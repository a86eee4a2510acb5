from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import shopkeep_agent
from conftest import wait_until
from fakeplatform import SERVER, STORE


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shopkeep_agent.cli", *args],  # noqa: S603
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def config(platform, tmp_path):
    """A config for the command-file adapter (a real adapter: each command is a line)."""
    (tmp_path / "players.json").write_text(json.dumps([{"name": "Alex"}]))
    path = tmp_path / "shopkeep-agent.toml"
    path.write_text(
        f'[platform]\nurl = "{platform.url}"\nstore_secret = "{STORE}"\n'
        f'server_secret = "{SERVER}"\npoll_seconds = 5\n'
        f'[game]\ntype = "stdin"\ncommand_file = "{tmp_path / "console.txt"}"\n'
        f'players_file = "{tmp_path / "players.json"}"\n'
        f"[agent]\nonline_check_seconds = 1\n")
    return path


def _console(tmp_path) -> list[str]:
    path = tmp_path / "console.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_version_prints_the_version():
    result = _cli("version")
    assert result.returncode == 0
    assert f"shopkeep-agent {shopkeep_agent.__version__}" in result.stdout


def test_check_reports_each_part(config):
    result = _cli("-c", str(config), "check")
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["config", "journal", "platform", "game"]
    assert all(line.split()[1] == "ok" for line in lines)
    assert "1 online (Alex)" in lines[3]


def test_check_fails_on_a_refused_secret_without_printing_it(config):
    config.write_text(config.read_text().replace(SERVER, "srv_wrong_one"))
    result = _cli("-c", str(config), "check")
    assert result.returncode == 1
    assert "secret refused" in result.stdout
    assert "srv_wrong_one" not in result.stdout + result.stderr


def test_queue_shows_what_waits_for_whom_and_runs_nothing(platform, config, tmp_path):
    platform.queue("give {player} kit", require_online=True, player="Steve")
    platform.queue("give {player} kit", require_online=True, player="Alex")
    platform.queue("say refund", type="refund")
    result = _cli("-c", str(config), "queue")
    assert result.returncode == 0, result.stderr
    assert "Pending on the platform: 3" in result.stdout
    assert "waits for Steve (offline)" in result.stdout
    assert "waits for Alex (online: next poll)" in result.stdout
    assert "runs at once" in result.stdout
    assert "0 confirmed, 0 failed" in result.stdout
    assert _console(tmp_path) == []
    assert all(not c["reports"] for c in platform.commands.values())


def test_run_delivers_and_exits_cleanly_on_sigterm(platform, config, tmp_path):
    first = platform.queue("say {player} bought {order_number}")
    proc = subprocess.Popen([sys.executable, "-m", "shopkeep_agent.cli",  # noqa: S603
                             "-c", str(config), "run"], stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: platform.status(first) == "completed")
        assert _console(tmp_path) == [f"say Steve bought ORD-{first}"]
        result = _cli("-c", str(config), "queue")  # beside the running agent
        assert "1 confirmed" in result.stdout
        second = _cli("-c", str(config), "run", timeout=30)  # the same journal
        assert second.returncode == 3
        assert "already running" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert "stopped" in proc.stderr.read()


def test_a_bad_config_stops_run_with_a_message_that_says_what_to_fix(config):
    config.write_text(config.read_text().replace("poll_seconds = 5", "poll_seconds = 1"))
    result = _cli("-c", str(config), "run")
    assert result.returncode == 2
    assert "platform.poll_seconds must be between 5 and 60" in result.stderr


def test_simulate_hands_its_arguments_to_the_simulator(tmp_path):
    help_text = _cli("simulate", "--help")
    assert help_text.returncode == 0 and "--rcon-port" in help_text.stdout
    proc = subprocess.Popen([sys.executable, "-m", "shopkeep_agent.cli", "simulate",
                             "--rcon-port", "0", "--rcon-password", "pw", "--control-port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(proc.stdout.readline())
        joined = _cli("simulate", "join", "Bob", "--control-port", str(ports["control_port"]))
        assert joined.returncode == 0 and '"Bob"' in joined.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
