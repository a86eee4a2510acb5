"""Idle agent polls against a raw ASGI hello, measured with wrk, all in one run (issue 20).

Starts, on free ports of 127.0.0.1, one worker each of: the raw ASGI hello (bench/raw_hello.py);
Shopkeep with the lean agent path (the default); Shopkeep with it switched off
(SHOPKEEP_AGENT_FASTPATH=false, the stack before issue 20). Then wrk measures each endpoint
ROUNDS times, interleaved so a noisy neighbour hits every figure alike, and prints the median
req/s and the ratio to the raw hello of the same server. With granian installed the whole
table is measured under granian too.

    PYTHONPATH=src .venv/bin/python bench/agent_fastpath.py      # PostgreSQL if reachable

The agent rate limit stays on (set very high, so its counter still runs on every request).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_poll import _database_url, _seed, _setup_django
from serving import free_port

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PENDING = "/api/v1/agent/commands/pending"


def _serve(server: str, app: str, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if server == "granian":
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--no-ws", "--log-level", "warning",
               app]
    else:
        cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port",
               str(port), "--lifespan", "off", "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT / "bench", stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(base + "/healthz", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{server} {app} did not start")


def _wrk(url: str, headers: dict[str, str]) -> float:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx" in out:
        raise SystemExit(f"errors measuring {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _table(server: str, env: dict, world: dict) -> list[tuple[str, float]]:
    headers = world["headers"]
    procs = []
    try:
        hello, hello_base = _serve(server, "raw_hello:app", env)
        procs.append(hello)
        lean, lean_base = _serve(server, "shopkeep.asgi:application", env)
        procs.append(lean)
        plain, plain_base = _serve(server, "shopkeep.asgi:application",
                                   {**env, "SHOPKEEP_AGENT_FASTPATH": "false"})
        procs.append(plain)
        etag = httpx.get(lean_base + PENDING, headers=headers).headers["ETag"]
        idle = {**headers, "If-None-Match": etag}
        cases = [
            ("raw ASGI hello (no Django)", hello_base + "/", {}),
            ("Django bare async hello, Shopkeep middleware", plain_base + "/bench/hello", {}),
            ("idle poll 304, lean path", lean_base + PENDING, idle),
            ("idle poll 200 empty, lean path", lean_base + PENDING, headers),
            ("idle poll 304, Django path (before)", plain_base + PENDING, idle),
            ("idle poll 200 empty, Django path (before)", plain_base + PENDING, headers),
        ]
        for _name, url, h in cases:  # warm up: caches filled, LISTEN connected
            for _ in range(20):
                httpx.get(url, headers=h)
            time.sleep(0.5)
        figures: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        for _ in range(ROUNDS):
            for name, url, h in cases:
                figures[name].append(_wrk(url, h))
        return [(name, statistics.median(values)) for name, values in figures.items()]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fastpath-"))
    url = _database_url(tmp)
    env = {"SHOPKEEP_DATABASE_URL": url, "SHOPKEEP_VAR_DIR": str(tmp),
           "SHOPKEEP_AGENT_RATE_LIMIT": "1000000000", "SHOPKEEP_LOG_LEVEL": "WARNING",
           "SHOPKEEP_DEBUG": "false", "DJANGO_SETTINGS_MODULE": "bench_settings"}
    _setup_django(env)
    world = _seed()
    server_env = {**os.environ, **env,
                  "PYTHONPATH": f"{ROOT / 'bench'}{os.pathsep}{ROOT / 'src'}"}
    servers = ["uvicorn"] + (["granian"] if importlib.util.find_spec("granian") else [])
    print(f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}; one worker "
          f"per server; wrk -t1 -c{CONNECTIONS} -d{SECONDS}s, median of {ROUNDS} interleaved "
          f"rounds; {os.cpu_count()} cores shared with other work")
    for server in servers:
        rows = _table(server, server_env, world)
        base = rows[0][1]
        print(f"\n{server}:")
        print("| endpoint | req/s | vs raw ASGI hello |\n|---|---|---|")
        for name, rate in rows:
            print(f"| {name} | {rate:,.0f} | {rate / base:.3f} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
