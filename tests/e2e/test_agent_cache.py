"""Two web processes answering idle polls from memory (delivery/fastpath.py): a secret rotated
in a third process is refused by both within a second, and a purchase made elsewhere wakes a
long-poll held in either. SQLite file on the SQLite pass; the test database on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.serving import free_port

PENDING = "/api/v1/agent/commands/pending"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def platform(request, tmp_path):
    """The environment of a platform on a database the test and its servers share."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPKEEP_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHOPKEEP_VAR_DIR=str(tmp_path), SHOPKEEP_ENV="development",
               SHOPKEEP_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        request.getfixturevalue("transactional_db")  # committed rows, flushed afterwards
        from django.db import connection

        s = connection.settings_dict
        env["SHOPKEEP_DATABASE_URL"] = (f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:"
                                        f"{s['PORT'] or 5432}/{s['NAME']}")
        if s.get("PASSWORD"):
            env["PGPASSWORD"] = s["PASSWORD"]
    else:
        env["SHOPKEEP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"], env=env,
                       check=True, timeout=180)
    procs: list[subprocess.Popen] = []

    def ctl(*args: str) -> dict:
        out = subprocess.run([sys.executable, "-m", "tests.e2e.platform_ctl", *args], env=env,
                             check=True, timeout=120, capture_output=True, text=True, cwd=ROOT)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def serve() -> str:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "shopkeep.asgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env=env, cwd=ROOT, start_new_session=True)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                time.sleep(0.2)
        pytest.fail("web process did not start")

    yield ctl, serve
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _headers(shop: dict, **extra: str) -> dict:
    return {"X-Store-Secret": shop["store_secret"], "X-Server-Secret": shop["server_secret"],
            "X-Agent-Instance": "agent-a", **extra}


def _idle(bases: list[str], shop: dict) -> dict:
    """Every process answers the agent's idle poll (and so holds it in memory)."""
    etag = httpx.get(bases[0] + PENDING, headers=_headers(shop)).headers["etag"]
    h = _headers(shop, **{"If-None-Match": etag})
    for base in bases:
        for _ in range(5):
            assert httpx.get(base + PENDING, headers=h).status_code == 304
    return h


def _refused_within(bases: list[str], headers: dict, seconds: float) -> list[float]:
    """How long after now each process takes to answer 401 to ``headers``."""
    started = time.monotonic()
    took = []
    for base in bases:
        while True:
            code = httpx.get(base + PENDING, headers=headers).status_code
            if code == 401:
                took.append(time.monotonic() - started)
                break
            assert code == 304, code
            assert time.monotonic() - started < seconds + 2, "still accepted"
            time.sleep(0.02)
    return took


@pytest.mark.parametrize("what", ["server", "store"])
def test_a_rotated_secret_is_refused_by_every_process_within_a_second(platform, what):
    ctl, serve = platform
    shop = ctl("setup")
    bases = [serve(), serve()]
    old = _idle(bases, shop)
    # Timed from the rotating process's exit, just after its commit.
    new_secret = ctl("rotate", "--what", what, "--server", str(shop["server_id"]))["secret"]
    took = _refused_within(bases, old, 1.0)
    assert all(t < 1.0 for t in took), took
    key = "server_secret" if what == "server" else "store_secret"
    fresh = {**shop, key: new_secret}
    for base in bases:
        assert httpx.get(base + PENDING, headers=_headers(fresh)).status_code == 200


def test_a_purchase_in_another_process_wakes_a_poll_held_in_either(platform):
    import threading

    ctl, serve = platform
    shop = ctl("setup")
    bases = [serve(), serve()]
    for base in bases:
        h = _idle(bases, shop)
        box: dict = {}

        def poll(base=base, h=h, box=box):
            box["response"] = httpx.get(base + PENDING, params={"wait": 25}, headers=h,
                                        timeout=40)
            box["at"] = time.monotonic()

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(1.0)
        assert "response" not in box  # held
        order = ctl("buy", "--product", str(shop["kit"]))["orders"][0]
        bought = time.monotonic()
        thread.join(timeout=30)
        response = box["response"]
        assert response.status_code == 200
        (cmd,) = response.json()["commands"]
        assert cmd["order"]["order_number"] == order
        assert box["at"] - bought < 2.0
        assert httpx.post(f"{base}/api/v1/agent/commands/{cmd['id']}/confirm",
                          headers=_headers(shop), json={}).json()["changed"] is True
