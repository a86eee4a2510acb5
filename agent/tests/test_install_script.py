# ruff: noqa: S603, S607 - tests start the programs they build, by known paths
"""packaging/install-linux.sh below a staging root: a virtual environment with the agent, a
configuration from the connection string (secrets 0600), and the systemd unit."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[1]
SCRIPT = AGENT / "packaging" / "install-linux.sh"
CONNECTION = f"shopkeep+https://sks_{'a' * 43}:srv_{'b' * 43}@shop.example.com/?game=minecraft"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or os.name != "posix",
                                reason="a Linux install script")


def test_the_script_installs_configures_and_writes_the_unit(tmp_path):
    root = tmp_path / "root"
    result = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), "--no-systemd", "--no-check",
         "--python", sys.executable, CONNECTION],
        input="\n\n\n\nrcon-password\n", capture_output=True, text=True, timeout=900,
        start_new_session=True)  # no controlling terminal: getpass reads stdin
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    venv = root / "opt" / "shopkeep-agent"
    version = subprocess.run([str(venv / "bin" / "shopkeep-agent"), "version"],
                             capture_output=True, text=True, check=True).stdout
    assert version.startswith("shopkeep-agent ")
    conf = root / "etc" / "shopkeep-agent"
    toml = (conf / "agent.toml").read_text()
    assert 'url = "https://shop.example.com"' in toml and 'type = "source_rcon"' in toml
    assert "rcon-password" not in toml and "sks_" not in toml
    for name in ("store.secret", "server.secret", "game.secret"):
        assert stat.S_IMODE((conf / name).stat().st_mode) == 0o600
    assert (conf / "game.secret").read_text().strip() == "rcon-password"
    unit = (root / "etc" / "systemd" / "system" / "shopkeep-agent.service").read_text()
    assert ("ExecStart=/opt/shopkeep-agent/bin/shopkeep-agent -c "
            "/etc/shopkeep-agent/agent.toml run") in unit
    assert "User=shopkeep-agent" in unit and "@" not in unit.split("[Install]")[0].replace(
        "network-online", "")


def test_an_old_python_is_refused_before_anything_is_written(tmp_path):
    fake = tmp_path / "python-old"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(SCRIPT), "--root", str(tmp_path / "r"), "--python",
                             str(fake), CONNECTION], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "3.9 or newer" in result.stderr
    assert not (tmp_path / "r").exists()
