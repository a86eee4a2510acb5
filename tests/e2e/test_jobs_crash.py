"""SIGKILL the worker in the middle of its jobs, restart it, and check the books.

The original failure (issue 12): a worker killed while refunds executed left one refund
``pending`` and its task ``RUNNING`` forever; the gateway had refunded, the order did not
show it, no ``order.refunded`` was sent, nothing retried. Here the worker runs as its own
process (``shopkeep worker``) on a file or PostgreSQL database of its own and is SIGKILLed:
first at chosen points (stopped there, killed from outside), then at random moments. After a
clean restart every refund settled exactly once, the books equal the gateway's, and
``order.refunded`` went out once per refund; the same for every other task type.

Counts are printed (``-s``) for the issue note.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.agent_world import ROOT, platform_env, wait_for

LEASE = 2  # seconds: a dead worker's task runs again this long after its last renewal


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    """The world's own database: a SQLite file (on the SQLite pass), or a PostgreSQL database
    of its own next to the test database (on the PostgreSQL pass), dropped afterwards."""
    url = os.environ.get("SHOPKEEP_DATABASE_URL", "")
    on_postgres = url.startswith("postgres")
    if request.param == "sqlite":
        if on_postgres:
            pytest.skip("the SQLite variant runs on the SQLite pass")
        yield None
        return
    import psycopg

    base, _, name = url.rpartition("/")
    own = f"{name.split('?')[0]}_crash_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{own}"')
        conn.execute(f'CREATE DATABASE "{own}"')
    yield f"{base}/{own}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')


class JobsWorld:
    def __init__(self, tmp: Path, database_url: str | None) -> None:
        self.tmp = tmp
        self.env = platform_env(tmp / "var")
        self.env.update(SHOPKEEP_TASK_LEASE_SECONDS=str(LEASE), SHOPKEEP_TASK_MAX_ATTEMPTS="50")
        if database_url:
            self.env["SHOPKEEP_DATABASE_URL"] = database_url
        self.worker: subprocess.Popen | None = None
        self.kills = 0
        self.log = tmp / "worker.log"
        self.log_mark = 0

    def run(self, module: str, *args: str) -> dict:
        result = subprocess.run([sys.executable, "-m", module, *args], env=self.env, cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise AssertionError(f"{module} {args}: {result.stdout[-500:]} "
                                 f"{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def ctl(self, *args: str) -> dict:
        return self.run("tests.e2e.platform_ctl", *args)

    def jobs(self, *args: str) -> dict:
        return self.run("tests.e2e.jobs_ctl", *args)

    def setup(self) -> dict:
        subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"],
                       env=self.env, cwd=ROOT, check=True, timeout=300)
        return self.ctl("setup")

    def start_worker(self, failpoints: str = "") -> subprocess.Popen:
        env = {**self.env, "SHOPKEEP_FAILPOINTS": failpoints}
        self.log_mark = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "shopkeep.cli", "worker", "--interval", "0.1"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        return self.worker

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        """Wait until the current worker logged ``text``."""
        def seen() -> bool:
            with open(self.log, "rb") as log:
                log.seek(self.log_mark)
                return text.encode() in log.read()

        wait_for(seen, timeout=timeout, interval=0.1, what=text)

    def start_scheduler(self, failpoints: str = "") -> subprocess.Popen:
        with open(self.tmp / "scheduler.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "shopkeep.cli", "scheduler", "--tick", "0.2"],
                env={**self.env, "SHOPKEEP_FAILPOINTS": failpoints}, cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    def kill_worker(self) -> None:
        """SIGKILL from outside, whatever the worker is doing."""
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=10)
            self.kills += 1

    def wait_dead(self, timeout: float = 60) -> None:
        """The worker killed itself at a ``kill`` failpoint."""
        assert self.worker is not None
        self.worker.wait(timeout=timeout)
        assert self.worker.returncode == -signal.SIGKILL, self.log.read_text()[-3000:]
        self.kills += 1

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait(timeout=10)

    def books(self) -> dict:
        return self.jobs("books")

    def drained(self) -> dict | None:
        books = self.books()
        busy = {k: v for k, v in books["tasks"].items()
                if k.endswith((":READY", ":RUNNING"))}
        return None if busy or books["leases"] else books


def _assert_refund_books(books: dict, orders: list[str], refunds_per_order: int) -> None:
    assert not [k for k in books["tasks"] if k.endswith(":FAILED")], books["tasks"]
    for number in orders:
        order = books["orders"][number]
        assert order["refunds"] == ["succeeded"] * refunds_per_order, (number, order)
        # The books equal the gateway's: what we show refunded is what the sandbox refunded.
        assert int(Decimal(order["refunded"]) * 100) == order["gateway_refunded_minor"], order
        assert order["status"] == "refunded", order
        # Exactly one refund at the gateway per refund key, one event per refund.
        assert order["gateway_refunds_per_key"] == [1] * refunds_per_order, order
        assert len(order["refunded_events"]) == refunds_per_order, order
        assert sum(Decimal(a) for a in order["refunded_events"]) == Decimal(order["refunded"])
        assert order["received_events"] == 1, order


def test_refunds_settle_exactly_once_across_worker_kills(tmp_path, database_url):
    seed = int(os.environ.get("SHOPKEEP_CHAOS_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    world = JobsWorld(tmp_path, database_url)
    try:
        shop = world.setup()
        orders = world.ctl("buy", "--product", str(shop["vip"]), "--count", "24")["orders"]
        split, whole = orders[:12], orders[12:]
        world.jobs("refunds", "--orders", ",".join(split), "--split")  # two refunds each
        world.jobs("refunds", "--orders", ",".join(whole))
        jobs = 2 * len(split) + len(whole)

        # 1. The case, at each point of a refund's execution: the worker stops there
        # and is SIGKILLed from outside. After the gateway call: the gateway has refunded,
        # our books do not show it yet, the task is RUNNING.
        for point in ("task.claimed", "refund.after_gateway", "task.ran"):
            world.start_worker(f"{point}=hang")
            world.wait_for_log(f"failpoint {point}: hanging")
            world.kill_worker()
            if point == "refund.after_gateway":
                books = world.books()
                behind = [o for o in books["orders"].values() if o["gateway_refunded_minor"]
                          > int(Decimal(o["refunded"]) * 100)]
                assert len(behind) == 1  # the gateway refunded; our books do not show it
                assert books["tasks"].get("refund_execute_task:RUNNING", 0) >= 1

        # 2. Kills at the chosen points, from inside (the Nth time the point is reached).
        for point in ("refund.after_gateway", "task.ran", "task.claimed"):
            world.start_worker(f"{point}=kill@{rng.randint(1, 3)}")
            world.wait_dead()

        # 3. Random SIGKILLs while it works; a slow gateway widens the window mid-refund.
        for _ in range(8):
            world.start_worker("refund.after_gateway=sleep:0.15")
            time.sleep(rng.uniform(0.3, 1.5))
            world.kill_worker()

        # A clean worker: the sweeper re-queues what the dead ones held, and it finishes.
        world.start_worker()
        books = wait_for(world.drained, timeout=240, interval=1, what="all refunds settled")
        _assert_refund_books(books, split, 2)
        _assert_refund_books(books, whole, 1)
        assert books["notices_unprocessed"] == 0
        print(f"\nrefund crash test (seed {seed}, "
              f"{'PostgreSQL' if database_url else 'SQLite'}): {jobs} refunds on "
              f"{len(orders)} orders, worker SIGKILLed {world.kills} times; every refund "
              f"settled once, books equal the gateway's")
    finally:
        world.stop()


def test_every_periodic_job_and_notice_is_done_once_across_worker_kills(tmp_path,
                                                                       database_url):
    world = JobsWorld(tmp_path, database_url)
    try:
        shop = world.setup()
        state = world.jobs("jobs-world", "--store", str(shop["store_id"]))
        # Payments whose buyer process died right after the charge committed: only the
        # durable notice can mark them paid.
        env_before = dict(world.env)
        world.env["SHOPKEEP_FAILPOINTS"] = "sandbox.notice_committed=kill"
        crashed = subprocess.run(
            [sys.executable, "-m", "tests.e2e.platform_ctl", "buy", "--product",
             str(shop["kit"]), "--player", "Crashy"], env=world.env, cwd=ROOT,
            capture_output=True, text=True, timeout=120)
        assert crashed.returncode == -signal.SIGKILL
        world.env = env_before
        # The scheduler dies inside its third claim (before the commit); a restarted one
        # enqueues every job exactly once: the dead claim rolled back with its task row.
        scheduler = world.start_scheduler("scheduler.claimed=kill@3")
        scheduler.wait(timeout=60)
        assert scheduler.returncode == -signal.SIGKILL
        assert sum(j["enqueued"] for j in world.jobs("scheduled").values()) == 2
        scheduler = world.start_scheduler()

        def all_claimed() -> bool:
            return all(job["claimed"] for job in world.jobs("scheduled").values())

        wait_for(all_claimed, timeout=60, interval=0.5, what="every job scheduled")
        os.killpg(scheduler.pid, signal.SIGKILL)
        scheduler.wait(timeout=10)
        scheduled = world.jobs("scheduled")
        assert {name: j["enqueued"] for name, j in scheduled.items()} == {
            name: 1 for name in scheduled}
        enqueued = sorted(scheduled)
        # Each task type: killed after doing its work but before its result was recorded
        # (a re-run must change nothing), and killed right after its claim (it must run).
        kills = [f"task.ran=kill@{n}" for n in range(1, 6)] + [
            f"task.claimed=kill@{n}" for n in range(1, 4)]
        for failpoint in kills:
            world.start_worker(failpoint)
            world.wait_dead()
        world.start_worker()
        books = wait_for(world.drained, timeout=240, interval=1, what="all tasks done")
        assert not [k for k in books["tasks"] if k.endswith(":FAILED")], books["tasks"]
        assert books["notices_unprocessed"] == 0
        paid = [o for o in books["orders"].values() if o["received_events"]]
        assert all(o["received_events"] == 1 for o in paid)
        assert len(books["orders"]) == 5  # three subscriptions, the refunded kit, Crashy's
        result = world.jobs("world-state", "--world", json.dumps(state))
        assert result["stale_order"] == "cancelled"
        assert result["stock"] == 5  # its 2 held units released exactly once
        subs = result["subscriptions"]
        assert (subs["renews"]["renewals_ok"], subs["renews"]["gateway_charges"],
                subs["renews"]["renewed_events"]) == (1, 2, 1)
        assert (subs["ends"]["ended"], subs["ends"]["cancel_commands"]) == (True, 1)
        assert subs["retries"]["status"] == "active"
        assert subs["retries"]["gateway_charges"] == 2  # the failed attempt bills nothing
        assert subs["retries"]["renewals_ok"] == 1
        assert (result["refund"], result["refunded"], result["refunded_events"]) == (
            "succeeded", "4.99", 1)
        assert result["sessions"] == 0
        print(f"\nperiodic jobs crash test ({'PostgreSQL' if database_url else 'SQLite'}): "
              f"{len(enqueued)} periodic task types + sandbox notices, worker SIGKILLed "
              f"{world.kills} times (+1 buyer process, +1 scheduler mid-claim), each "
              f"outcome once")
    finally:
        world.stop()


def test_a_task_running_longer_than_its_lease_is_renewed_not_run_twice(tmp_path,
                                                                      database_url):
    """The other side of leases: a slow task (3 lease periods) keeps its lease alive, so
    a second worker sweeping meanwhile never starts it again."""
    world = JobsWorld(tmp_path, database_url)
    try:
        world.setup()
        enqueued = world.jobs("enqueue-periodic")["enqueued"]
        slow = world.start_worker(f"task.claimed=sleep:{3 * LEASE}")
        world.wait_for_log("started on queues")
        other = world.start_worker()  # sweeps every second while the slow one works
        books = wait_for(world.drained, timeout=240, interval=1, what="all tasks done")
        assert books["most_runs_of_one_task"] == 1, books
        assert set(books["tasks"]) == {f"{k.split(':')[0]}:SUCCESSFUL" for k in books["tasks"]}
        assert sum(books["tasks"].values()) == len(enqueued)
        for proc in (slow, other):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    finally:
        world.stop()
