"""Peak resident memory of `shopkeep-agent run` per adapter (target: under 40 MB).

    .venv/bin/python bench/agent_rss.py

For each adapter: the simulator serves that protocol, a small in-process server speaks the
agent API (agent/tests/fakeplatform.py) and queues 50 commands, the agent runs them; VmHWM
(the peak RSS) is read from /proc once they are all confirmed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "agent" / "tests"))

from fakeplatform import SERVER, STORE, FakePlatform  # noqa: E402

GAMES = {
    kind: (f"--{kind.replace('_', '-').replace('source-rcon', 'rcon')}-port",
           "rcon_port" if kind == "source_rcon" else f"{kind}_port",
           f'type = "{kind}"\nport = {{p}}\npassword = "pw"\n')
    for kind in ("source_rcon", "webrcon", "battleye", "udp_rcon", "telnet")
} | {
    "panel": ("--panel-port", "panel_port", 'type = "panel"\nurl = "http://127.0.0.1:{p}"\n'
              'server = "1a2b3c4d"\napi_key = "ptlc_simulator"\n'),
}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(kind: str, tmp: Path) -> tuple[float, int]:
    flag, key, game = GAMES[kind]
    platform = FakePlatform().start()
    sim = subprocess.Popen([sys.executable, "-m", "shopkeep_agent.simulator", flag, "0",
                            "--rcon-password", "pw", "--players", "Steve"],
                           stdout=subprocess.PIPE, text=True)
    agent = None
    try:
        port = json.loads(sim.stdout.readline())[key]
        config = tmp / f"{kind}.toml"
        config.write_text(f'[platform]\nurl = "{platform.url}"\nstore_secret = "{STORE}"\n'
                          f'server_secret = "{SERVER}"\n[agent]\njournal = "{kind}.sqlite3"\n'
                          "[game]\n" + game.format(p=port))
        ids = [platform.queue("say hello {player}") for _ in range(50)]
        agent = subprocess.Popen([sys.executable, "-m", "shopkeep_agent.cli", "-c", str(config),
                                  "run"], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
                platform.status(i) == "completed" for i in ids):
            time.sleep(0.2)
        done = sum(platform.status(i) == "completed" for i in ids)
        return peak_rss_mb(agent.pid), done
    finally:
        if agent is not None:
            agent.terminate()
            agent.wait(timeout=30)
        sim.terminate()
        sim.wait(timeout=30)
        platform.stop()


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        for kind in GAMES:
            rss, done = measure(kind, Path(folder))
            print(f"{kind:12} peak RSS {rss:5.1f} MB ({done}/50 commands confirmed)",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
