"""The lean agent path (delivery/fastpath.py) through the real ASGI stack, in one event loop:
it answers idle polls from memory exactly as Django would, and hands everything else over.

In-process on PostgreSQL (SQLite's shared-cache in-memory test database locks tables between
the threads this needs); tests/e2e/test_agent_cache.py runs it on SQLite files, in processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time

import httpx
import pytest
from asgiref.sync import sync_to_async

from shopkeep.asgi import django_application
from shopkeep.core.asgi_limits import BodyLimitMiddleware
from shopkeep.delivery import agentcache, fastpath
from shopkeep.delivery.models import GameServer
from shopkeep.stores.audit import Actor
from tests.commerce import make_shop, paid_order
from tests.delivery.conftest import add_server
from tests.factories import owner_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PENDING = "/api/v1/agent/commands/pending"


def _run(test):
    """Run ``test(lean, plain)`` in a fresh loop: two clients, the full app and Django alone."""
    async def main():
        app = BodyLimitMiddleware(fastpath.AgentFastPath(django_application))
        lean = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1")
        plain = httpx.AsyncClient(transport=httpx.ASGITransport(app=django_application),
                                  base_url="http://127.0.0.1")
        async with lean, plain:
            await test(lean, plain)
            if app.app.db is not None:
                await app.app.db.close()
    asyncio.run(main())


def _headers(world, **extra):
    agent = world["agent"]
    return {"X-Store-Secret": agent.store_secret, "X-Server-Secret": agent.server_secret,
            "X-Agent-Instance": agent.instance, **extra}


def _same(a: httpx.Response, b: httpx.Response) -> None:
    """Status, every header (name, value, order) but the clock's, and the body."""
    def shape(r):
        return [(k, v) for k, v in r.headers.raw if k.lower() not in (b"date", b"server")]
    assert a.status_code == b.status_code
    assert shape(a) == shape(b)
    if a.content and "meta" in json.loads(a.content):
        left, right = json.loads(a.content), json.loads(b.content)
        left["meta"].pop("server_time"), right["meta"].pop("server_time")
        assert left == right
    else:
        assert a.content == b.content


def _buy(store, product):
    # Committed for real (transactional test): the on-commit wake-ups run as in production.
    return paid_order(store, product, capture=lambda **_: contextlib.nullcontext())


def _memory() -> int:
    return fastpath.STATS["memory"]


async def _warm(lean, headers) -> None:
    """Poll until the process listens for changes and answers from memory (the first polls
    after start go to Django while the LISTEN connection opens)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        before = _memory()
        await lean.get(PENDING, headers=headers)
        if _memory() > before:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the lean path never answered from memory")


def test_idle_304_is_answered_from_memory_exactly_as_django_answers(world):
    async def test(lean, plain):
        first = await plain.get(PENDING, headers=_headers(world))  # Django claims the server
        etag = first.headers["etag"]
        await _warm(lean, _headers(world, **{"If-None-Match": etag}))
        before = _memory()
        fast = [await lean.get(PENDING, headers=_headers(world, **{"If-None-Match": etag}))
                for _ in range(5)]
        assert _memory() - before == 5
        slow = await plain.get(PENDING, headers=_headers(world, **{"If-None-Match": etag}))
        for response in fast:
            _same(response, slow)
    _run(test)


def test_idle_200_empty_is_answered_from_memory_exactly_as_django_answers(world):
    async def test(lean, plain):
        await plain.get(PENDING, headers=_headers(world))
        await _warm(lean, _headers(world))
        before = _memory()
        fast = [await lean.get(PENDING, headers=_headers(world)) for _ in range(3)]
        assert _memory() - before == 3
        slow = await plain.get(PENDING, headers=_headers(world))
        assert slow.json()["commands"] == []
        for response in fast:
            _same(response, slow)
    _run(test)


def test_a_queued_command_reaches_the_next_poll_at_once(world):
    async def test(lean, plain):
        etag = (await lean.get(PENDING, headers=_headers(world))).headers["etag"]
        await _warm(lean, _headers(world, **{"If-None-Match": etag}))
        order = await sync_to_async(_buy)(world["store"], world["product"])
        response = await lean.get(PENDING, headers=_headers(world, **{"If-None-Match": etag}))
        assert response.status_code == 200
        (cmd,) = response.json()["commands"]
        assert cmd["order"]["id"] == order.pk
    _run(test)


def test_held_polls_cost_no_thread_and_wake_on_a_new_command(world):
    # The hold (30 s, the API's maximum) is far longer than a woken answer takes, so "answered
    # before the hold ended" tells a wake-up from a time-out even on a slow, busy CI machine;
    # how fast the wake is belongs to bench/agent_longpoll.py.
    hold = 30

    async def test(lean, plain):
        etag = (await lean.get(PENDING, headers=_headers(world))).headers["etag"]
        await _warm(lean, _headers(world, **{"If-None-Match": etag}))
        threads = threading.active_count()
        held = [asyncio.ensure_future(lean.get(
            PENDING, params={"wait": hold}, headers=_headers(world, **{"If-None-Match": etag}),
            timeout=hold + 15)) for _ in range(100)]
        await asyncio.sleep(1.0)
        assert not any(h.done() for h in held)
        assert threading.active_count() == threads  # a held poll is no thread
        started = time.monotonic()
        await sync_to_async(_buy)(world["store"], world["product"])

        async def answered(future):
            response = await future
            return response, time.monotonic() - started

        results = await asyncio.gather(*(answered(h) for h in held))
        answers, took = [r for r, _ in results], sorted(t for _, t in results)
        assert took[-1] < hold - 2, f"not woken: answers after {took[0]:.1f}-{took[-1]:.1f} s"
        assert {a.status_code for a in answers} == {200}
        assert all(len(a.json()["commands"]) == 1 for a in answers)
    _run(test)


def test_a_long_poll_with_nothing_new_answers_304_from_memory_after_the_wait(world):
    async def test(lean, plain):
        etag = (await lean.get(PENDING, headers=_headers(world))).headers["etag"]
        await _warm(lean, _headers(world, **{"If-None-Match": etag}))
        before, started = _memory(), time.monotonic()
        response = await lean.get(PENDING, params={"wait": 1},
                                  headers=_headers(world, **{"If-None-Match": etag}))
        assert response.status_code == 304 and time.monotonic() - started >= 1
        assert _memory() == before + 1
    _run(test)


def test_rotated_secrets_are_refused_at_once(world):
    from shopkeep.delivery.services import server_rotate_secret, store_secret_rotate

    async def test(lean, plain):
        etag = (await lean.get(PENDING, headers=_headers(world))).headers["etag"]
        h = _headers(world, **{"If-None-Match": etag})
        await _warm(lean, h)
        store = world["store"]
        actor = Actor.for_user(await sync_to_async(owner_of)(store))
        await sync_to_async(store_secret_rotate)(store=store, actor=actor)
        refused = await lean.get(PENDING, headers=h)
        _same(refused, await plain.get(PENDING, headers=h))
        assert refused.status_code == 401
        world["agent"].store_secret = await sync_to_async(store_secret_rotate)(
            store=store, actor=actor)
        h = _headers(world, **{"If-None-Match": etag})
        assert (await lean.get(PENDING, headers=h)).status_code in (200, 304)
        await sync_to_async(server_rotate_secret)(store=store, actor=actor,
                                                  server=world["server"])
        assert (await lean.get(PENDING, headers=h)).status_code == 401
    _run(test)


def test_errors_stay_djangos(world, settings):
    settings.SHOPKEEP_AGENT_RATE_LIMIT = 4

    async def test(lean, plain):
        etag = (await lean.get(PENDING, headers=_headers(world))).headers["etag"]
        good = _headers(world, **{"If-None-Match": etag})
        cases = [
            _headers(world, **{"X-Server-Secret": "srv_nope"}),
            _headers(world, **{"X-Agent-Instance": "bad id"}),
            _headers(world, **{"X-Agent-Instance": "agent-b"}),  # another instance: 409
        ]
        for headers in cases:
            _same(await lean.get(PENDING, headers=headers),
                  await plain.get(PENDING, headers=headers))
        _same(await lean.get(PENDING, params={"limit": 501}, headers=good),
              await plain.get(PENDING, params={"limit": 501}, headers=good))
        # The rate limit counts memory answers too: 4 a minute, then 429 from Django.
        codes = [(await lean.get(PENDING, headers=good)).status_code for _ in range(3)]
        assert codes[-1] == 429
        assert (await lean.get(PENDING, headers=good)).headers["retry-after"]
    _run(test)


def test_another_stores_secrets_are_401_and_learn_nothing(world):
    other = make_shop()
    _, secret, store_secret = add_server(other)

    async def test(lean, plain):
        await lean.get(PENDING, headers=_headers(world))
        mixed = _headers(world, **{"X-Store-Secret": store_secret})
        assert (await lean.get(PENDING, headers=mixed)).status_code == 401
        mixed = _headers(world, **{"X-Server-Secret": secret})
        assert (await lean.get(PENDING, headers=mixed)).status_code == 401
    _run(test)


def test_seed_only_pollers_are_recorded_and_served_from_memory(world):
    async def test(lean, plain):
        headers = _headers(world)
        del headers["X-Agent-Instance"]
        await _warm(lean, headers)
        before = _memory()
        response = await lean.get(PENDING, headers=headers)
        assert response.status_code == 200 and response.json()["commands"] == []
        assert _memory() == before + 1
        for _ in range(50):  # written behind the answer, batched
            server = await sync_to_async(GameServer.objects.get)(pk=world["server"].pk)
            if server.anonymous_seen_at is not None:
                break
            await asyncio.sleep(0.05)
        assert server.anonymous_seen_at is not None and server.agent_instance == ""
    _run(test)


def test_an_agent_seen_long_ago_is_recorded_again_from_memory(world):
    from datetime import timedelta

    from django.utils import timezone

    async def test(lean, plain):
        etag = (await plain.get(PENDING, headers=_headers(world))).headers["etag"]
        h = _headers(world, **{"If-None-Match": etag})
        await _warm(lean, h)
        old = timezone.now() - timedelta(seconds=60)
        await sync_to_async(GameServer.objects.filter(pk=world["server"].pk).update)(
            agent_seen_at=old)
        agentcache.invalidate([world["server"].pk])  # as the next NOTIFY would
        before = _memory()
        assert (await lean.get(PENDING, headers=h)).status_code == 304
        assert _memory() == before + 1
        for _ in range(50):
            server = await sync_to_async(GameServer.objects.get)(pk=world["server"].pk)
            if server.agent_seen_at > old:
                break
            await asyncio.sleep(0.05)
        assert server.agent_seen_at > old and server.agent_instance == "agent-a"
    _run(test)


def test_nothing_is_cached_without_a_change_channel(world):
    async def test(lean, plain):
        agentcache.channel_down()
        digest = __import__("hashlib").sha256(
            world["agent"].server_secret.encode()).hexdigest()
        assert agentcache.begin() is None and agentcache.get(digest) is None
    _run(test)
