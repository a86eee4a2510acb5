"""Start one uvicorn worker on Shopkeep's ASGI app for a benchmark, and wait until it answers
the bench hello view (bench_urls.py)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def uvicorn_server(env: dict[str, str]) -> Iterator[str]:
    """One worker, no access log; yields its base URL and stops it afterwards."""
    port = free_port()
    server_env = {**os.environ, **env,
                  "PYTHONPATH": f"{ROOT / 'bench'}{os.pathsep}{ROOT / 'src'}"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "shopkeep.asgi:application",
                             "--port", str(port), "--lifespan", "off", "--log-level",
                             "warning", "--no-access-log"], env=server_env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/bench/hello", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
