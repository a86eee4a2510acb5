# ruff: noqa: S603 - tests start the programs they build, by known paths
"""`make agent-pyz`: the single-file build runs on Python 3.9 without pip: it serves the
simulator, and its `run` executes a queued command once against a platform."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_until
from fakeplatform import SERVER, STORE

AGENT = Path(__file__).resolve().parents[1]
PY39_ENV = {**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.9.18")}
PY39 = shutil.which("python3.9")

pytestmark = pytest.mark.skipif(PY39 is None, reason="needs python3.9 (pyenv)")


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    out = tmp_path_factory.mktemp("pyz") / "shopkeep-agent.pyz"
    subprocess.run([sys.executable, str(AGENT / "packaging" / "build_pyz.py"), "--out",
                    str(out), "--python", PY39], check=True, env=PY39_ENV, timeout=600,
                   capture_output=True)
    return out


def _py39(*args, **kwargs):
    # -I: isolated from any site-packages, so nothing but the archive provides the agent.
    return [PY39, "-I", *args]


def test_the_archive_runs_on_python_39_and_holds_only_pure_python(pyz):
    import zipfile

    names = zipfile.ZipFile(pyz).namelist()
    assert "__main__.py" in names and "shopkeep_agent/cli.py" in names
    assert "tomli/__init__.py" in names and "websockets/__init__.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    out = subprocess.run(_py39(str(pyz), "version"), env=PY39_ENV, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.startswith("shopkeep-agent ") and "Python 3.9" in out


def test_the_archive_runs_a_command_once_against_the_platform(pyz, platform, tmp_path):
    sim = subprocess.Popen(_py39(str(pyz), "simulate", "--rcon-port", "0", "--rcon-password",
                                 "pw", "--players", "Steve", "--log",
                                 str(tmp_path / "sim.log")),
                           env=PY39_ENV, stdout=subprocess.PIPE, text=True)
    agent = None
    try:
        ports = json.loads(sim.stdout.readline())
        config = tmp_path / "agent.toml"
        config.write_text(f'[platform]\nurl = "{platform.url}"\nstore_secret = "{STORE}"\n'
                          f'server_secret = "{SERVER}"\npoll_seconds = 5\n[game]\n'
                          f'type = "source_rcon"\nport = {ports["rcon_port"]}\npassword = "pw"\n')
        cid = platform.queue("give {player} diamond 1")
        agent = subprocess.Popen(_py39(str(pyz), "-c", str(config), "run"), env=PY39_ENV,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: platform.status(cid) == "completed", timeout=60)
        agent.terminate()
        assert agent.wait(timeout=30) == 0
        lines = (tmp_path / "sim.log").read_text().splitlines()
        assert [line.split(" ", 2)[2] for line in lines if " list" not in line] == [
            "give Steve diamond 1"]
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        sim.terminate()
        sim.wait(timeout=30)
