"""Races that only a real multi-connection database shows (PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
from django.db import connection

from shopkeep.delivery import agent as agent_services
from shopkeep.delivery.models import DeliveryCommand, DeliveryLog
from shopkeep.events.models import Event
from tests.commerce import make_product, make_shop
from tests.delivery.conftest import add_server, commands_of
from tests.e2e.serving import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _paid_command():
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import checkout_start, order_create
    from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxSession
    from tests.commerce import buyer

    store = make_shop()
    server, server_secret, store_secret = add_server(store)
    product = make_product(store, purchase_command="lp user {player} parent add vip")
    order = order_create(store=store, lines=[Line(product.pk, 1)], customer=buyer())
    checkout_start(order=order, success_url="https://x.test/ok", cancel_url="https://x.test/no")
    SandboxGateway().pay(session_id=SandboxSession.objects.get(reference=order.order_number).pk,
                         card_number=CARD_OK)
    return store, server, order, server_secret, store_secret


def _race(n: int, work) -> tuple[list, list[BaseException]]:
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results.append(work(i))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_confirms_of_one_command_change_it_once():
    _store, server, order, _, _ = _paid_command()
    (command,) = commands_of(order)
    results, errors = _race(8, lambda i: agent_services.confirm(
        server=server, command_id=command.pk, output=f"run {i}", instance="agent-a"))
    assert errors == []
    assert sorted(r["changed"] for r in results) == [False] * 7 + [True]
    command.refresh_from_db()
    assert command.status == "completed" and command.attempt_count == 1
    assert DeliveryLog.objects.filter(command=command, kind="confirmed").count() == 1
    assert Event.objects.filter(event_type="delivery.completed").count() == 1


def test_confirm_racing_a_refund_cancel_has_one_winner():
    from shopkeep.delivery import queue
    from shopkeep.orders.models import Order

    _store, server, order, _, _ = _paid_command()
    (command,) = commands_of(order)

    def work(i: int):
        if i == 0:
            return agent_services.confirm(server=server, command_id=command.pk,
                                          instance="agent-a")
        from django.db import transaction

        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            return queue.cancel_open(order=locked, types=["purchase"], reason="refund")

    results, errors = _race(2, work)
    command.refresh_from_db()
    if errors:  # the confirm lost: it must say so with a 409, not change anything
        assert [getattr(e, "code", None) for e in errors] == ["command_cancelled"]
        assert command.status == "cancelled"
    else:
        assert command.status == "completed"
        assert 0 in results  # the cancel found nothing left to cancel
    assert DeliveryLog.objects.filter(command=command).exclude(kind="queued").count() == 1


def test_two_agents_polling_at_once_only_one_holds_the_server():
    _store, server, _order, _, _ = _paid_command()
    from shopkeep.delivery.models import GameServer

    def work(i: int):
        fresh = GameServer.objects.get(pk=server.pk)
        agent_services.claim(server=fresh, instance=f"agent-{i}")
        return i

    results, errors = _race(6, work)
    assert len(results) == 1
    assert all(getattr(e, "code", None) == "duplicate_agent" for e in errors)
    assert GameServer.objects.get(pk=server.pk).agent_instance == f"agent-{results[0]}"


@pytest.fixture
def web_process(tmp_path):
    """The ASGI app in its own process on this test database."""
    s = connection.settings_dict
    url = (f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:"
           f"{s['PORT'] or 5432}/{s['NAME']}")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPKEEP_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHOPKEEP_DATABASE_URL=url, SHOPKEEP_VAR_DIR=str(tmp_path),
               SHOPKEEP_ENV="development", SHOPKEEP_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "shopkeep.asgi:application",
                             "--port", str(port), "--lifespan", "off", "--log-level", "warning"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_long_poll_in_another_process_wakes_when_this_one_queues(web_process):
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import checkout_start, order_create
    from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxSession
    from tests.commerce import buyer

    store, _server, _order, server_secret, store_secret = _paid_command()
    headers = {"X-Store-Secret": store_secret, "X-Server-Secret": server_secret,
               "X-Agent-Instance": "agent-a"}
    with httpx.Client(base_url=web_process, headers=headers, timeout=40) as client:
        first = client.get("/api/v1/agent/commands/pending")
        assert first.status_code == 200
        etag = first.headers["ETag"]
        answer: dict = {}

        def poll() -> None:
            started = time.monotonic()
            response = client.get("/api/v1/agent/commands/pending?wait=25",
                                  headers={"If-None-Match": etag})
            answer.update(response=response, seconds=time.monotonic() - started)

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(1.5)  # let the request reach its wait (nothing asserted on time)
        product = make_product(store, name="Kit", price="2.00",
                               purchase_command="kit starter {player}")
        order = order_create(store=store, lines=[Line(product.pk, 1)], customer=buyer())
        checkout_start(order=order, success_url="https://x.test/ok",
                       cancel_url="https://x.test/no")
        SandboxGateway().pay(session_id=SandboxSession.objects.get(
            reference=order.order_number).pk, card_number=CARD_OK)
        poller.join(timeout=40)
    response = answer["response"]
    assert response.status_code == 200
    assert [c["command"] for c in response.json()["commands"]] == [
        "lp user {player} parent add vip", "kit starter {player}"]
    assert answer["seconds"] < 25  # woken by the queueing, not by the end of the wait
    assert DeliveryCommand.objects.filter(order=order).count() == 1


def test_racing_pollers_without_instance_never_receive_the_same_command():
    """Eight seed-only pollers at once, ten polls each: every command goes to one poll."""
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import checkout_start, order_create
    from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxSession
    from tests.commerce import buyer

    store, server, order, _, _ = _paid_command()
    product = order.items.get().product
    for _ in range(11):
        extra = order_create(store=store, lines=[Line(product.pk, 1)], customer=buyer())
        checkout_start(order=extra, success_url="https://x.test/ok",
                       cancel_url="https://x.test/no")
        SandboxGateway().pay(session_id=SandboxSession.objects.get(
            reference=extra.order_number).pk, card_number=CARD_OK)
    total = DeliveryCommand.objects.filter(server=server, status="pending").count()
    assert total == 12

    def poll(_i: int) -> list[int]:
        got = []
        for _ in range(10):
            commands, _more = agent_services.due_commands(
                server_id=server.pk, limit=3, owner=agent_services.anonymous_owner())
            got += [c["id"] for c in commands]
        return got

    results, errors = _race(8, poll)
    assert errors == []
    handed = [cid for r in results for cid in r]
    assert len(handed) == len(set(handed)) == total
