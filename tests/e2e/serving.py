"""Start `shopkeep serve` as `make run` does (separate processes on a real SQLite file) and
wait until it is ready; shared by the end-to-end tests that need a whole running platform."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The test process's environment without its Shopkeep settings: a first run's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPKEEP_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHOPKEEP_VAR_DIR=str(var_dir), SHOPKEEP_ENV="development", **extra)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "shopkeep.cli", *args]


@contextlib.contextmanager
def serve_demo(env: dict[str, str], port: int, *, demo_env: dict[str, str] | None = None,
               stop: signal.Signals = signal.SIGKILL,
               ) -> Iterator[tuple[str, str, subprocess.Popen]]:
    """Migrate, seed the demo, serve on ``port``; yields (base URL, demo output, process)."""
    subprocess.run(_cli("migrate", "--quiet"), env=env, check=True, timeout=120)
    demo = subprocess.run(_cli("demo"), env=demo_env or env, check=True, timeout=60,
                          capture_output=True, text=True)
    proc = subprocess.Popen(_cli("serve", "--port", str(port)), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("shopkeep serve did not become ready: " + proc.stdout.read().decode())
    try:
        yield base, demo.stdout, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, stop)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
