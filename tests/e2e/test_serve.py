"""`shopkeep serve` as `make run` starts it: separate processes on a real SQLite file."""

from __future__ import annotations

import signal
import subprocess
import time

import httpx
import pytest

from tests.e2e.serving import clean_env, free_port, serve_demo


@pytest.fixture
def served(tmp_path):
    with serve_demo(clean_env(tmp_path), free_port()) as (base, demo_output, proc):
        yield base, demo_output, proc, tmp_path


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
