"""Held long-polls on one web process (issue 20): memory and threads per held poll, /healthz
and a storefront page while they are held, and 1,000 of them woken by one purchase.

    PYTHONPATH=src .venv/bin/python bench/agent_longpoll.py     # BENCH_HELD=20000 by default

Seeds one store with BENCH_HELD game servers (rows written directly: the dashboard caps a
store at 50 servers, a bench needs thousands), each with its agent already holding it, and a
product whose purchase command targets BENCH_WOKEN of them. Starts one uvicorn worker, opens
one ``?wait=30`` poll with ``If-None-Match`` per server (a raw asyncio client), measures the
server's RSS and thread count, times /healthz and the storefront home while they are held,
then pays one order and times, from its commit, each woken poll's 200 with its command.

Each held poll is one open file on each side, so the bench raises its open-file limit
(``RLIMIT_NOFILE``, inherited by the server it starts) to ``BENCH_NOFILE`` (default 65,536;
up to the hard limit, or past it when run as root) and prints the limit it got.

``/healthz`` is timed twice: right after the client has sent every poll (the server may
still be accepting the burst) and once the process has settled (``/healthz`` answering
three times in a row within 100 ms), which is what "while held" means in docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_poll import _buy, _setup_django
from serving import free_port

ROOT = Path(__file__).resolve().parent.parent
HELD = int(os.environ.get("BENCH_HELD", "20000"))
WOKEN = int(os.environ.get("BENCH_WOKEN", "1000"))
PENDING = "/api/v1/agent/commands/pending"


def _database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"
                         "sk_perf_longpoll")
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def _seed() -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", "--noinput", "-v", "0")
    from shopkeep.accounts.services import user_create
    from shopkeep.catalog.models import DeliveryAction
    from shopkeep.catalog.services import ProductInput, product_create
    from shopkeep.delivery.models import GameServer
    from shopkeep.delivery.services import store_secret_rotate
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.services import store_create

    owner = user_create(email="bench@example.com", password="x" * 12, email_verified=True)
    store = store_create(owner=owner, name="Bench", slug="bench")
    actor = Actor.for_user(owner)
    store_secret = store_secret_rotate(store=store, actor=actor)
    now = timezone.now()
    rows = [GameServer(store=store, name=f"s{i}", game="minecraft",
                       secret_hash=hashlib.sha256(f"srv_bench_{i}".encode()).hexdigest(),
                       secret_prefix="srv_benc", agent_instance=f"agent-{i}",
                       agent_seen_at=now) for i in range(HELD)]
    servers = GameServer.objects.bulk_create(rows, batch_size=2000)
    product = product_create(store=store, actor=actor, data=ProductInput(name="VIP",
                                                                          price="1.00"))
    action = DeliveryAction.objects.create(store=store, product=product, trigger="purchase",
                                           commands=["say {player}"], all_servers=False)
    woken = servers[-WOKEN:]
    action.servers.set(woken)
    return {"store": store, "product": product, "store_secret": store_secret,
            "servers": [(i, s.pk) for i, s in enumerate(servers)],
            "woken": {s.pk for s in woken}}


def _raise_nofile() -> int:
    """Soft (and, as root, hard) RLIMIT_NOFILE up to BENCH_NOFILE; the soft limit got."""
    wanted = int(os.environ.get("BENCH_NOFILE", "65536"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), max(hard, wanted)))
    except (ValueError, OSError):  # not root: the hard limit is the ceiling
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, wanted), hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _proc_status(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["Threads"])


async def _hold(port: int, index: int, server_id: int, store_secret: str) -> tuple[int, float]:
    request = (f"GET {PENDING}?wait=30 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"X-Store-Secret: {store_secret}\r\nX-Server-Secret: srv_bench_{index}\r\n"
               f"X-Agent-Instance: agent-{index}\r\n"
               f'If-None-Match: "q{server_id}-0-100"\r\nConnection: close\r\n\r\n').encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    at = time.perf_counter()
    await reader.read()
    writer.close()
    return status, at


async def _timed(client: httpx.AsyncClient, path: str, n: int) -> list[float]:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        took.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return took


async def _settle(client: httpx.AsyncClient) -> float:
    """Seconds until /healthz answers within 100 ms three times in a row."""
    started, fast = time.perf_counter(), 0
    while fast < 3:
        took = (await _timed(client, "/healthz", 1))[0]
        fast = fast + 1 if took < 0.1 else 0
    return time.perf_counter() - started


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[max(0, int(len(values) * 0.99) - 1)]
    return (f"p50 {statistics.median(values) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {values[-1] * 1000:.0f} ms")


async def _run(port: int, pid: int, world: dict) -> None:
    from asgiref.sync import sync_to_async

    base = f"http://127.0.0.1:{port}"
    rss0, threads0 = _proc_status(pid)
    # The woken servers last, so theirs are the freshest polls when the purchase lands.
    order = sorted(world["servers"], key=lambda p: p[1] in world["woken"])
    started = time.perf_counter()
    tasks = {}
    for start in range(0, len(order), 500):
        for index, server_id in order[start:start + 500]:
            tasks[server_id] = asyncio.ensure_future(
                _hold(port, index, server_id, world["store_secret"]))
        await asyncio.sleep(0.05)
    sent = time.perf_counter() - started
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        burst = await _timed(client, "/healthz", 1)
        settled_in = await _settle(client)
        rss1, threads1 = _proc_status(pid)
        done_early = sum(t.done() for t in tasks.values())
        print(f"held polls: {len(tasks)} sent in {sent:.1f} s, {done_early} answered early; "
              f"/healthz during the burst {burst[0] * 1000:.0f} ms; settled "
              f"{settled_in:.1f} s after the last poll was sent; server RSS "
              f"{rss0 / 1024:.0f} -> {rss1 / 1024:.0f} MB "
              f"({(rss1 - rss0) * 1024 / max(1, len(tasks)):.0f} bytes per held poll), "
              f"threads {threads0} -> {threads1}")
        health = await _timed(client, "/healthz", 40)
        front = await _timed(client, f"/s/{world['store'].slug}/", 20)
    print(f"while held: /healthz {_ms(health)}; storefront home {_ms(front)}")
    await sync_to_async(_buy)(world["store"], world["product"])
    committed = time.perf_counter()
    woken = [tasks[sid] for sid in world["woken"]]
    results = await asyncio.gather(*woken)
    statuses = {s for s, _ in results}
    latencies = [at - committed for _, at in results]
    print(f"{len(woken)} woken by one purchase: statuses {sorted(statuses)}; purchase commit "
          f"-> command in the agent's hands: {_ms(latencies)}")
    rss2, threads2 = _proc_status(pid)
    print(f"after the wake-up: RSS {rss2 / 1024:.0f} MB, threads {threads2}; load average "
          f"{os.getloadavg()[0]:.1f}")
    for task in tasks.values():
        task.cancel()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-longpoll-"))
    url = _database_url()
    env = {"SHOPKEEP_DATABASE_URL": url, "SHOPKEEP_VAR_DIR": str(tmp),
           "SHOPKEEP_AGENT_RATE_LIMIT": "1000000000", "SHOPKEEP_LOG_LEVEL": "WARNING",
           "SHOPKEEP_DEBUG": "false", "SHOPKEEP_ALLOWED_HOSTS": "127.0.0.1"}
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")
    nofile = _raise_nofile()
    _setup_django(env)
    world = _seed()
    port = free_port()
    # BENCH_PROFILE=/path/out.prof: the server runs under cProfile (read it with pstats).
    profile = os.environ.get("BENCH_PROFILE")
    runner = [str(ROOT / "bench" / "profiled_uvicorn.py")] if profile else ["-m", "uvicorn"]
    proc = subprocess.Popen(
        [sys.executable, *runner, "shopkeep.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--log-level", "warning",
         "--no-access-log", "--backlog", "4096", "--timeout-keep-alive", "40"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT / "src")})
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"PostgreSQL; one uvicorn worker; {HELD} servers, {WOKEN} woken; open-file "
              f"limit {nofile}; load average {os.getloadavg()[0]:.1f}")
        asyncio.run(_run(port, proc.pid, world))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
