"""Changed lists answered by the lean path (delivery/fastpath_take.py, PostgreSQL): the same
bytes as Django's view, the same leases, and a command handed to exactly one of many racing
pollers, whichever path or process answers them."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from asgiref.sync import sync_to_async

from shopkeep.asgi import django_application
from shopkeep.core.asgi_limits import BodyLimitMiddleware
from shopkeep.delivery import fastpath
from shopkeep.delivery.models import DeliveryCommand, GameServer
from tests.commerce import make_shop
from tests.delivery.conftest import add_server
from tests.delivery.test_fastpath import PENDING, _buy, _headers, _memory, _run, _same, _warm

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _anonymous(world, **extra):
    headers = _headers(world, **extra)
    del headers["X-Agent-Instance"]
    return headers


def _statements(lean_app) -> int:
    return 0 if lean_app.taker is None else lean_app.taker.statements


async def _buy_many(world, n: int) -> list[int]:
    for _ in range(n):
        await sync_to_async(_buy)(world["store"], world["product"])
    return await sync_to_async(lambda: list(DeliveryCommand.objects.filter(
        server=world["server"], type="purchase").order_by("id").values_list("pk", flat=True)))()


def _lean_lists() -> float:
    from shopkeep.core.metrics import POLLS_LEAN_LIST

    return POLLS_LEAN_LIST._value.get()


def _lean_app():
    return BodyLimitMiddleware(fastpath.AgentFastPath(django_application))


def test_a_changed_list_is_answered_by_the_lean_path_exactly_as_django_answers(world):
    async def test(lean, plain):
        etag = (await plain.get(PENDING, headers=_headers(world))).headers["etag"]
        stale = _headers(world, **{"If-None-Match": etag})
        await _warm(lean, stale)
        await _buy_many(world, 1)
        before, counted = _memory(), _lean_lists()
        fast = await lean.get(PENDING, headers=stale)
        assert _memory() == before + 1  # not handed to Django
        assert _lean_lists() == counted + 1  # /metrics tells these from memory answers
        assert fast.status_code == 200 and len(fast.json()["commands"]) == 1
        # The instance holds the lease, so Django hands it the same commands again.
        _same(fast, await plain.get(PENDING, headers=stale))
    _run(test)


def test_limit_and_more_match_django(world):
    async def test(lean, plain):
        etag = (await plain.get(PENDING, headers=_headers(world))).headers["etag"]
        await _warm(lean, _headers(world, **{"If-None-Match": etag}))
        ids = await _buy_many(world, 3)
        fast = await lean.get(PENDING, params={"limit": 2}, headers=_headers(world))
        body = fast.json()
        assert [c["id"] for c in body["commands"]] == ids[:2] and body["meta"]["more"] is True
        _same(fast, await plain.get(PENDING, params={"limit": 2}, headers=_headers(world)))
        # The third is still free for whoever asks next; the two leased are not handed out.
        rest = await plain.get(PENDING, headers=_anonymous(world))
        assert [c["id"] for c in rest.json()["commands"]] == ids[2:]
    _run(test)


def test_an_anonymous_poller_is_told_its_lease_as_django_tells_it(world):
    async def test(lean, plain):
        await _warm(lean, _anonymous(world))
        await _buy_many(world, 1)
        fast = await lean.get(PENDING, headers=_anonymous(world))
        await _buy_many(world, 1)
        slow = await plain.get(PENDING, headers=_anonymous(world))
        # Each anonymous poll is its own lease owner: each got a different command.
        (a,), (b,) = fast.json()["commands"], slow.json()["commands"]
        assert a["id"] != b["id"]
        assert a.keys() == b.keys() and a["lease"]["seconds"] == b["lease"]["seconds"] == 120
        assert [k for k, _ in fast.headers.raw if k.lower() != b"date"] == \
            [k for k, _ in slow.headers.raw if k.lower() != b"date"]
        command = await sync_to_async(DeliveryCommand.objects.get)(pk=a["id"])
        assert command.lease_owner.startswith("anon:")
        assert a["lease"]["expires_at"] == \
            command.leased_until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        server = await sync_to_async(GameServer.objects.get)(pk=world["server"].pk)
        assert server.retry_due_at is not None  # idle answers will notice the lease ending
    _run(test)


def test_a_players_later_command_waits_behind_their_retrying_one_as_in_django(world):
    async def test(lean, plain):
        await _warm(lean, _anonymous(world))
        first, second = await _buy_many(world, 2)
        await sync_to_async(DeliveryCommand.objects.filter(pk=first).update)(
            status="retrying")
        fast = await lean.get(PENDING, headers=_headers(world))
        assert fast.json()["commands"] == []
        _same(fast, await plain.get(PENDING, headers=_headers(world)))
        assert second not in [c["id"] for c in fast.json()["commands"]]
    _run(test)


def test_racing_pollers_on_two_lean_processes_and_django_never_share_a_command(world):
    """Forty anonymous polls at once: twenty through each of two lean paths (own pools, own
    batches: as two web processes) and ten through Django. Each command reaches one."""
    async def test(lean, plain):
        other_app = _lean_app()
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=other_app),
                                  base_url="http://127.0.0.1")
        async with other:
            await _warm(lean, _anonymous(world))
            await _warm(other, _anonymous(world))
            ids = await _buy_many(world, 30)
            polls = ([lean.get(PENDING, params={"limit": 2}, headers=_anonymous(world))
                      for _ in range(20)]
                     + [other.get(PENDING, params={"limit": 2}, headers=_anonymous(world))
                        for _ in range(20)]
                     + [plain.get(PENDING, params={"limit": 2}, headers=_anonymous(world))
                        for _ in range(10)])
            answers = await asyncio.gather(*polls)
            assert {a.status_code for a in answers} == {200}
            received = [c["id"] for a in answers for c in a.json()["commands"]]
            assert len(received) == len(set(received))  # nobody got another's command
            # A poll that lost every race gets less (as in Django); what nobody took is still
            # free for the next poll: none was lost, none is handed out a second time.
            for _ in range(30):
                rest = (await lean.get(PENDING, headers=_anonymous(world))).json()["commands"]
                if not rest:
                    break
                received += [c["id"] for c in rest]
            assert sorted(received) == ids
            assert _statements(other_app.app) >= 1
            await other_app.app.db.close()
    _run(test)


def test_held_polls_of_many_servers_woken_by_one_purchase_each_get_their_own_command(world):
    from shopkeep.catalog.models import DeliveryAction

    servers = [world["server"]]
    secrets = [world["agent"].server_secret]
    for n in range(9):
        server, secret, _ = add_server(world["store"], name=f"Extra {n}")
        servers.append(server)
        secrets.append(secret)
    DeliveryAction.objects.filter(product=world["product"]).update(all_servers=True)

    async def test(lean, plain):
        app = lean._transport.app.app
        tags = []
        for secret in secrets:
            h = {**_headers(world), "X-Server-Secret": secret}
            tags.append((await plain.get(PENDING, headers=h)).headers["etag"])
            await _warm(lean, {**h, "If-None-Match": tags[-1]})
        held = [asyncio.ensure_future(lean.get(
            PENDING, params={"wait": 20}, timeout=30,
            headers={**_headers(world), "X-Server-Secret": secret, "If-None-Match": tag}))
            for secret, tag in zip(secrets, tags, strict=True)]
        await asyncio.sleep(0.5)
        before, statements = _memory(), _statements(app)
        await sync_to_async(_buy)(world["store"], world["product"])
        answers = await asyncio.gather(*held)
        assert _memory() - before == len(servers)  # every one answered by the lean path
        got = {a.json()["commands"][0]["id"] for a in answers}
        mine = await sync_to_async(lambda: set(DeliveryCommand.objects.filter(
            server__in=servers, type="purchase").values_list("pk", flat=True)))()
        assert got == mine and len(got) == len(servers)
        assert _statements(app) > statements
    _run(test)


def test_another_stores_agent_never_receives_this_stores_commands(world):
    other = make_shop()
    _, secret, store_secret = add_server(other)

    async def test(lean, plain):
        outsider = {"X-Store-Secret": store_secret, "X-Server-Secret": secret}
        await _warm(lean, outsider)
        await _buy_many(world, 2)
        fast = await lean.get(PENDING, headers=outsider)
        assert fast.status_code == 200 and fast.json()["commands"] == []
        crossed = {**outsider, "X-Server-Secret": world["agent"].server_secret}
        assert (await lean.get(PENDING, headers=crossed)).status_code == 401
        leased = await sync_to_async(lambda: list(DeliveryCommand.objects.filter(
            store=world["store"]).exclude(lease_owner="").values_list("pk", flat=True)))()
        assert leased == []  # the outsider's polls leased nothing of this store
        mine = await lean.get(PENDING, headers=_headers(world))
        assert len(mine.json()["commands"]) == 2
        assert json.loads(mine.content)["meta"]["count"] == 2
    _run(test)


def test_test_and_manual_commands_without_an_order_match_django(world):
    from shopkeep.customers.models import Customer
    from shopkeep.delivery import adhoc
    from shopkeep.stores.audit import Actor
    from tests.factories import owner_of

    async def test(lean, plain):
        etag = (await plain.get(PENDING, headers=_headers(world))).headers["etag"]
        stale = _headers(world, **{"If-None-Match": etag})
        await _warm(lean, stale)
        store = world["store"]

        def queue():
            actor = Actor.for_user(owner_of(store))
            adhoc.command_send_test(store=store, actor=actor, server=world["server"],
                                    command="say hello", player_name="Alex")
            _buy(store, world["product"])  # a customer to deliver to by hand
            customer = Customer.objects.filter(store=store).first()
            adhoc.manual_product_deliver(store=store, actor=actor, customer=customer,
                                         product=world["product"], reason="goodwill")
        await sync_to_async(queue)()
        fast = await lean.get(PENDING, headers=stale)
        kinds = {(c["origin"], c["order"] is None, c["product"] is None)
                 for c in fast.json()["commands"]}
        assert ("test", True, True) in kinds and ("manual", True, False) in kinds
        assert ("order", False, False) in kinds
        _same(fast, await plain.get(PENDING, headers=stale))
    _run(test)
