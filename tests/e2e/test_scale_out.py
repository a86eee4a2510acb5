"""Scale-out on one PostgreSQL (issue 20): two web processes, two webhook dispatchers and two
agents polling, with purchases made by a third process. Wake-ups cross processes (every held
poll in both web processes is answered by the purchase, not by its deadline), no command is
handed to both agents, and no webhook is sent twice (receivers deduplicate on the id, but
the platform should not make them).

The agents are seed-only pollers (no X-Agent-Instance, as two installations that do not name
themselves would be): the lease on each handed-out command is what keeps them apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.e2e.serving import free_port

pytestmark = [pytest.mark.postgres]
PENDING = "/api/v1/agent/commands/pending"
ROOT = Path(__file__).resolve().parents[2]
ORDERS = 12


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, str]] = []
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            self.received.append((self.headers["webhook-id"], self.headers["X-Webhook-ID"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def cluster(transactional_db, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("scale-out needs PostgreSQL (LISTEN/NOTIFY, SKIP LOCKED)")
    s = connection.settings_dict
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPKEEP_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHOPKEEP_VAR_DIR=str(tmp_path), SHOPKEEP_ENV="development",
               SHOPKEEP_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT),
               SHOPKEEP_WEBHOOK_ALLOW_PRIVATE="true",
               SHOPKEEP_DATABASE_URL=(f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:"
                                      f"{s['PORT'] or 5432}/{s['NAME']}"))
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    procs: list[subprocess.Popen] = []

    def ctl(*args: str) -> dict:
        out = subprocess.run([sys.executable, "-m", "tests.e2e.platform_ctl", *args], env=env,
                             check=True, timeout=120, capture_output=True, text=True, cwd=ROOT)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def start(*argv: str) -> subprocess.Popen:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True)
        procs.append(proc)
        return proc

    def serve() -> str:
        port = free_port()
        start(sys.executable, "-m", "uvicorn", "shopkeep.asgi:application", "--host",
              "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                time.sleep(0.2)
        pytest.fail("web process did not start")

    def dispatcher() -> None:
        start(sys.executable, "-m", "shopkeep.cli", "dispatcher")

    yield ctl, serve, dispatcher
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class _Agent(threading.Thread):
    """Long-polls one web process, confirms every command it receives through it."""

    def __init__(self, base: str, shop: dict, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.stop = base, stop
        self.headers = {"X-Store-Secret": shop["store_secret"],
                        "X-Server-Secret": shop["server_secret"]}
        self.executed: list[int] = []
        self.answers: list[tuple[int, int]] = []  # (status, commands) of each held poll
        self.etag: str | None = None
        self.errors: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=40) as client:
            while not self.stop.is_set():
                headers = dict(self.headers)
                if self.etag:
                    headers["If-None-Match"] = self.etag
                try:
                    r = client.get(PENDING, params={"wait": 30}, headers=headers)
                    self.etag = r.headers.get("etag", self.etag)
                    commands = r.json()["commands"] if r.status_code == 200 else []
                    self.answers.append((r.status_code, len(commands)))
                    for command in commands:
                        self.executed.append(command["id"])
                        done = client.post(f"/api/v1/agent/commands/{command['id']}/confirm",
                                           headers=self.headers, json={})
                        if done.status_code != 200:
                            self.errors.append(f"confirm {done.status_code}")
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))
                    time.sleep(0.2)


def test_two_web_processes_two_dispatchers_two_agents_nothing_twice(cluster):
    ctl, serve, dispatcher = cluster
    receiver = ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    _Receiver.received = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        shop = ctl("setup")
        ctl("webhook", "--url", f"http://127.0.0.1:{receiver.server_port}/hook")
        bases = [serve(), serve()]
        dispatcher()
        dispatcher()
        stop = threading.Event()
        agents = [_Agent(base, shop, stop) for base in bases]
        for agent in agents:
            agent.start()
        time.sleep(2.0)  # both hold a poll (their first answers were the empty list)
        held_before = [len(a.answers) for a in agents]
        ctl("buy", "--product", str(shop["kit"]), "--count", str(ORDERS))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = ctl("status")
            kits = [c for c in status["commands"] if c["type"] == "purchase"]
            if len(kits) == ORDERS and all(c["status"] == "completed" for c in kits):
                break
            time.sleep(0.5)
        stop.set()
        # Every command ran once, on exactly one agent.
        executed = [cid for agent in agents for cid in agent.executed]
        assert sorted(executed) == sorted(c["id"] for c in kits), (executed, kits)
        assert len(executed) == len(set(executed)) == ORDERS
        assert not [e for agent in agents for e in agent.errors]
        # The purchases (made by a third process) woke the poll held in each web process: it
        # was answered 200 with the changed list, not 304 at the end of its 30 s wait.
        for agent, before in zip(agents, held_before, strict=True):
            woken = agent.answers[before:]
            assert woken and woken[0][0] == 200, agent.answers
        # Webhooks: every delivery sent once, to the receiver, by one of the two dispatchers.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            deliveries = ctl("deliveries")["deliveries"]
            if deliveries and all(v == "succeeded" for v in deliveries.values()):
                break
            time.sleep(0.5)
        time.sleep(1.0)  # a duplicate send would arrive about now
        ids = [webhook_id for webhook_id, _ in _Receiver.received]
        assert len(deliveries) >= ORDERS  # at least order.received per order
        assert all(v == "succeeded" for v in deliveries.values()), deliveries
        assert sorted(ids) == sorted(deliveries), "a delivery was sent twice or never"
        assert all(a == b for a, b in _Receiver.received)  # both id headers name one delivery
    finally:
        receiver.shutdown()
