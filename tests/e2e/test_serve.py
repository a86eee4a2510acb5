"""`shopkeep serve` as `make run` starts it: separate processes on a real SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPKEEP_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHOPKEEP_VAR_DIR=str(tmp_path), SHOPKEEP_ENV="development")
    subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"], env=env,
                   check=True, timeout=120)
    demo = subprocess.run([sys.executable, "-m", "shopkeep.cli", "demo"], env=env, check=True,
                          timeout=60, capture_output=True, text=True)
    proc = subprocess.Popen([sys.executable, "-m", "shopkeep.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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
    yield base, demo.stdout, proc, tmp_path
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)


def test_serve_answers_the_login_page_and_the_demo_owner_signs_in(served):
    base, demo_output, _, _ = served
    email, _slash, password = demo_output.split("Owner login:")[1].split()[:3]
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        login = client.get("/accounts/login/")
        assert login.status_code == 200
        assert "Content-Security-Policy" in login.headers
        assert client.get("/static/shopkeep/app.css").status_code == 200
        token = client.cookies["csrftoken"]
        response = client.post("/accounts/login/", data={
            "login": email, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/accounts/login/"})
        assert response.status_code == 302
        overview = client.get("/dashboard/demo/")
        assert overview.status_code == 200
        assert "Demo Craft" in overview.text


def test_serve_runs_the_worker_and_scheduler_and_stops_them_on_sigterm(served):
    _base, _, proc, var_dir = served
    import sqlite3

    db = sqlite3.connect(var_dir / "shopkeep.sqlite3")
    deadline = time.monotonic() + 30
    finished = 0
    while time.monotonic() < deadline and finished < 2:
        # The scheduler enqueues the daily jobs at start; the worker runs them.
        finished = db.execute("SELECT count(*) FROM django_tasks_database_dbtaskresult "
                              "WHERE status = 'SUCCESSFUL'").fetchone()[0]
        time.sleep(0.3)
    db.close()
    assert finished >= 2
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    children = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True)
    assert children.stdout.strip() == ""
