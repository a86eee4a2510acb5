"""Separate processes for the agent end-to-end tests: the platform (uvicorn on a SQLite file),
the game-server simulator, and shopkeep-agent, plus platform_ctl to buy and read results."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from shopkeep_agent.simulator.world import parse_log_line

ROOT = Path(__file__).resolve().parents[2]
RCON_PASSWORD = "e2e-rcon-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s")


def _kill(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def platform_env(var: Path) -> dict[str, str]:
    """The environment of every process of one world: its own SQLite file, nothing of ours."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPKEEP_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHOPKEEP_VAR_DIR=str(var), SHOPKEEP_ENV="development",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "agent" / "src"),
                                           str(ROOT)]))
    return env


def migrate_var_dir(var: Path) -> None:
    subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"],
                   env=platform_env(var), cwd=ROOT, check=True, timeout=180)


class World:
    def __init__(self, tmp: Path, *, poll_seconds: int = 30, online_check_seconds: int = 2,
                 rate_limit: int | None = None, database_url: str | None = None) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = platform_env(tmp / "var")
        if database_url:
            self.env["SHOPKEEP_DATABASE_URL"] = database_url
        if rate_limit is not None:
            self.env["SHOPKEEP_AGENT_RATE_LIMIT"] = str(rate_limit)
        self.poll_seconds = poll_seconds
        self.online_check_seconds = online_check_seconds
        self.platform: subprocess.Popen | None = None
        self.simulator: subprocess.Popen | None = None
        self.agents: list[subprocess.Popen] = []
        self.sim_log = tmp / "simulator.log"
        self.control_port = 0
        self.rcon_port = 0
        self.sim_ports: dict[str, Any] = {}
        self.shop: dict[str, Any] = {}

    # -- platform ----------------------------------------------------------------------
    def ctl(self, *args: str) -> dict[str, Any]:
        result = subprocess.run([sys.executable, "-m", "tests.e2e.platform_ctl", *args],
                                env=self.env, cwd=ROOT, capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"platform_ctl {args} failed: {result.stdout[-500:]} "
                                 f"{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def setup(self, template: Path | None = None) -> World:
        """Migrate (or copy an already migrated ``template`` var dir), then create the shop."""
        var = Path(self.env["SHOPKEEP_VAR_DIR"])
        if template is not None:
            shutil.copytree(template, var)
        else:
            subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"],
                           env=self.env, cwd=ROOT, check=True, timeout=180)
        self.shop = self.ctl("setup")
        return self

    def start_platform(self) -> None:
        log = open(self.tmp / "platform.log", "ab")  # noqa: SIM115 - owned by the process
        self.platform = subprocess.Popen(
            [sys.executable, "-m", "shopkeep.cli", "serve", "--no-worker", "--no-migrate",
             "--port", str(self.port)], env=self.env, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def ready() -> bool:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=60, what="platform ready")

    def stop_platform(self, sig: int = signal.SIGTERM) -> None:
        _kill(self.platform, sig)
        self.platform = None

    # -- simulator ---------------------------------------------------------------------
    def start_simulator(self, players: str = "", extra: tuple[str, ...] = ()) -> None:
        self.simulator = subprocess.Popen(
            [sys.executable, "-m", "shopkeep_agent.simulator", "--rcon-port", "0",
             "--rcon-password", RCON_PASSWORD, "--control-port", "0",
             "--log", str(self.sim_log), "--players", players, *extra],
            env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True)
        ready = json.loads(self.simulator.stdout.readline())
        self.rcon_port, self.control_port = ready["rcon_port"], ready["control_port"]
        self.sim_ports = ready

    def sim(self, op: str, name: str) -> None:
        subprocess.run([sys.executable, "-m", "shopkeep_agent.simulator", op, name,
                        "--control-port", str(self.control_port)], env=self.env, cwd=ROOT,
                       check=True, capture_output=True, timeout=30)

    def executed(self) -> list[str]:
        """Commands the game ran (the simulator's log), without the agent's `list` checks."""
        if not self.sim_log.exists():
            return []
        lines = self.sim_log.read_text(encoding="utf-8").splitlines()
        commands = [parse_log_line(line)[2] for line in lines if line.strip()]
        return [c for c in commands if not c.startswith("list")]

    # -- agent -------------------------------------------------------------------------
    def agent_config(self, name: str = "agent", *, rcon_port: int | None = None,
                     long_poll: bool = True, poll_seconds: int | None = None,
                     game: str | None = None, **secrets: str) -> Path:
        folder = self.tmp / name
        folder.mkdir(exist_ok=True)
        path = folder / "shopkeep-agent.toml"
        path.write_text(
            "[platform]\n"
            f'url = "{self.url}"\n'
            f'store_secret = "{secrets.get("store_secret", self.shop["store_secret"])}"\n'
            f'server_secret = "{secrets.get("server_secret", self.shop["server_secret"])}"\n'
            f"poll_seconds = {poll_seconds or self.poll_seconds}\n"
            f"long_poll = {'true' if long_poll else 'false'}\n"
            "[agent]\n"
            f"online_check_seconds = {self.online_check_seconds}\n"
            + (game or "[game]\n"
               'type = "source_rcon"\n'
               f"port = {rcon_port or self.rcon_port}\n"
               f'password = "{RCON_PASSWORD}"\n'
               "timeout = 5\n"))
        return path

    def start_agent(self, name: str = "agent", **secrets: Any) -> subprocess.Popen:
        config = self.tmp / name / "shopkeep-agent.toml"
        if not config.exists() or secrets:
            config = self.agent_config(name, **secrets)
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen([sys.executable, "-m", "shopkeep_agent.cli", "-c", str(config),
                                 "run"], env=self.env, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.agents.append(proc)
        return proc

    def agent_log(self, name: str = "agent") -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    # -- results -----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self.ctl("status")

    def close(self) -> None:
        for proc in self.agents:
            _kill(proc)
        _kill(self.simulator)
        self.stop_platform()


class SlowLink:
    """A TCP proxy on 127.0.0.1 that holds every answer from the game for ``delay`` seconds,
    like a busy or distant game server: commands spend real time in flight, so a SIGKILL at a
    random moment can land between the journal's "started" and the result."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream, 0.0),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.delay),
                             daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, delay: float) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()
