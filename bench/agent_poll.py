"""Agent poll benchmark (issue 4): idle-poll throughput of GET /api/v1/agent/commands/pending
(the 304 path and the 200-empty path) against a bare async "hello" view on the same uvicorn
process and middleware stack, in one run; then long-poll wake-up latency from queueing a
command (in another process, through the database) to the agent's response.

    .venv/bin/python bench/agent_poll.py            # PostgreSQL if reachable, else SQLite
    BENCH_DATABASE_URL=sqlite:////tmp/b.sqlite3 .venv/bin/python bench/agent_poll.py

Targets (DESIGN.md): idle poll within 2x of the bare endpoint; wake-up p50 under 100 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from serving import uvicorn_server

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
WAKEUPS = int(os.environ.get("BENCH_WAKEUPS", "40"))


def _database_url(tmp: Path) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    try:
        import psycopg

        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2,
                        autocommit=True).execute("DROP DATABASE IF EXISTS bench_delivery")
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2,
                        autocommit=True).execute("CREATE DATABASE bench_delivery")
        return "postgres://postgres@127.0.0.1:5432/bench_delivery"
    except Exception:
        return f"sqlite:///{tmp / 'bench.sqlite3'}"


def _setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()


def _seed() -> dict:
    from django.core.management import call_command

    call_command("migrate", "--noinput", "-v", "0")
    from shopkeep.accounts.services import user_create
    from shopkeep.catalog.services import (
        ActionInput,
        ProductInput,
        delivery_actions_set,
        product_create,
    )
    from shopkeep.delivery.services import server_create
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.services import store_create

    owner = user_create(email=f"bench{time.time_ns()}@example.com", password="x" * 12,
                        email_verified=True)
    store = store_create(owner=owner, name="Bench", slug=f"bench-{time.time_ns()}")
    actor = Actor.for_user(owner)
    server, server_secret, store_secret = server_create(store=store, actor=actor, name="S1")
    product = product_create(store=store, actor=actor, data=ProductInput(name="VIP",
                                                                          price="1.00"))
    delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                         actions=[ActionInput(commands=["say {player}"])])
    return {"store": store, "product": product, "server": server,
            "headers": {"X-Store-Secret": store_secret, "X-Server-Secret": server_secret,
                        "X-Agent-Instance": "bench-agent"}}


def _buy(store, product) -> None:
    from shopkeep.customers.services import CustomerInput
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import checkout_start, order_create
    from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxSession

    order = order_create(store=store, lines=[Line(product.pk, 1)],
                         customer=CustomerInput(email="p@example.com", player_name="Steve"))
    checkout_start(order=order, success_url="https://x.test/a", cancel_url="https://x.test/b")
    SandboxGateway().pay(session_id=SandboxSession.objects.get(
        reference=order.order_number).pk, card_number=CARD_OK)


async def _throughput(base: str, path: str, headers: dict) -> tuple[float, int]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    statuses: dict[int, int] = {}
    done = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        for _ in range(20):  # warm up
            await client.get(path)
        stop = time.perf_counter() + SECONDS

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                response = await client.get(path)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    code = max(statuses, key=statuses.get)
    return done / elapsed, code


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    url = _database_url(tmp)
    env = {"SHOPKEEP_DATABASE_URL": url, "SHOPKEEP_VAR_DIR": str(tmp),
           "SHOPKEEP_AGENT_RATE_LIMIT": "0", "SHOPKEEP_LOG_LEVEL": "WARNING",
           "SHOPKEEP_DEBUG": "false", "DJANGO_SETTINGS_MODULE": "bench_settings"}
    _setup_django(env)
    world = _seed()
    with uvicorn_server(env) as base:
        headers = world["headers"]
        first = httpx.get(f"{base}/api/v1/agent/commands/pending", headers=headers)
        etag = first.headers["ETag"]
        print(f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}; "
              f"uvicorn, 1 worker; {CONCURRENCY} connections, {SECONDS:.0f} s each")
        hello, _ = asyncio.run(_throughput(base, "/bench/hello", {}))
        empty, code_empty = asyncio.run(_throughput(base, "/api/v1/agent/commands/pending",
                                                    headers))
        idle, code_idle = asyncio.run(_throughput(base, "/api/v1/agent/commands/pending",
                                                  {**headers, "If-None-Match": etag}))
        print(f"bare hello view        {hello:8.0f} req/s")
        print(f"pending, 200 empty     {empty:8.0f} req/s  ({code_empty}) "
              f"ratio hello/poll = {hello / empty:.2f}x")
        print(f"pending, 304 ETag      {idle:8.0f} req/s  ({code_idle}) "
              f"ratio hello/poll = {hello / idle:.2f}x")
        latencies = _wakeups(base, headers, world)
        p50 = statistics.median(latencies)
        p99 = sorted(latencies)[max(0, int(len(latencies) * 0.99) - 1)]
        print(f"long-poll wake-up ({len(latencies)} purchases): p50 {p50 * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")


def _wakeups(base: str, headers: dict, world: dict) -> list[float]:
    """The agent long-polls; this process pays an order; time from the payment's commit to
    the agent holding the command."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=40) as client:
        for _ in range(WAKEUPS):
            etag = client.get("/api/v1/agent/commands/pending").headers["ETag"]
            box: dict = {}

            def poll(etag: str = etag, box: dict = box) -> None:
                response = client.get("/api/v1/agent/commands/pending?wait=30",
                                      headers={"If-None-Match": etag})
                box["at"] = time.perf_counter()
                box["ids"] = [c["id"] for c in response.json()["commands"]]

            thread = threading.Thread(target=poll)
            thread.start()
            time.sleep(0.3)  # the poll is waiting
            before = time.perf_counter()
            _buy(world["store"], world["product"])
            committed = time.perf_counter()
            thread.join()
            latencies.append(box["at"] - committed)
            del before
            ids = box["ids"]
            client.post("/api/v1/agent/commands/confirm", json={"ids": ids})
    return latencies


if __name__ == "__main__":
    main()
