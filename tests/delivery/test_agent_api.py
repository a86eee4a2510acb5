"""The agent API against docs/agent-api.md: secrets, states, idempotency, one agent per
server, ETag and long-poll."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shopkeep.delivery.models import DeliveryCommand, DeliveryLog, GameServer
from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, make_shop, paid_order
from tests.delivery.conftest import Agent, add_server, commands_of, set_commands
from tests.factories import owner_of

Cmd = DeliveryCommand


@pytest.fixture
def paid(world, django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    return {**world, "order": order, "command": command}


def _state(command: Cmd) -> tuple:
    command.refresh_from_db()
    return (command.status, command.attempt_count, command.execute_after,
            DeliveryLog.objects.filter(command=command).count(),
            Event.objects.count())


# -- secrets -----------------------------------------------------------------------------------

def test_pending_lists_the_command_in_the_documented_shape(paid):
    response = paid["agent"].pending()
    assert response.status_code == 200
    body = response.json()
    (cmd,) = body["commands"]
    order = paid["order"]
    assert cmd == {
        "id": paid["command"].pk, "type": "purchase",
        "command": "lp user {player} parent add vip",
        "placeholders": cmd["placeholders"], "require_online": False,
        "player": {"name": "Steve", "uuid": None, "steam_id": None},
        "order": {"id": order.pk, "order_number": order.order_number},
        "product": {"id": paid["product"].pk, "name": "VIP Rank"},
        "attempt": 1, "created_at": cmd["created_at"],
        "safe_to_repeat": False, "delay_after_join": 0, "origin": "order", "test": False}
    assert cmd["placeholders"]["player"] == "Steve"
    assert all(isinstance(v, str) for v in cmd["placeholders"].values())
    assert body["meta"]["count"] == 1 and body["meta"]["more"] is False
    assert body["meta"]["next_poll_seconds"] == 60
    assert response["ETag"]


@pytest.mark.parametrize("which", ["wrong_store", "wrong_server", "swapped", "missing"])
def test_bad_secrets_get_one_generic_401(paid, which):
    agent = paid["agent"]
    headers = {"wrong_store": {"X-Store-Secret": "sks_nope"},
               "wrong_server": {"X-Server-Secret": "srv_nope"},
               "swapped": {"X-Store-Secret": agent.server_secret,
                           "X-Server-Secret": agent.store_secret},
               "missing": {"X-Store-Secret": ""}}[which]
    response = agent.pending(**headers)
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthenticated",
                                         "message": "Invalid store or server secret."}}


def test_a_server_secret_with_another_stores_secret_is_401(paid):
    other = make_shop()
    _, _, other_store_secret = add_server(other)
    response = paid["agent"].pending(**{"X-Store-Secret": other_store_secret})
    assert response.status_code == 401


def test_malformed_instance_header_is_400(paid):
    response = paid["agent"].with_instance("bad id;rm").pending()
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_agent_instance"


def test_rotated_server_secret_stops_at_once(paid):
    from shopkeep.delivery.services import server_rotate_secret

    store = paid["store"]
    new = server_rotate_secret(store=store, actor=Actor.for_user(owner_of(store)),
                               server=paid["server"])
    assert paid["agent"].pending().status_code == 401
    fresh = Agent(Client(), paid["agent"].store_secret, new)
    assert fresh.pending().status_code == 200


def test_rotated_store_secret_stops_at_once(paid):
    from shopkeep.delivery.services import store_secret_rotate

    store = paid["store"]
    new = store_secret_rotate(store=store, actor=Actor.for_user(owner_of(store)))
    assert paid["agent"].pending().status_code == 401
    assert Agent(Client(), new, paid["agent"].server_secret).pending().status_code == 200


def test_removed_server_is_401(paid):
    from shopkeep.delivery.services import server_remove

    server_remove(store=paid["store"], actor=Actor.for_user(owner_of(paid["store"])),
                  server=paid["server"])
    assert paid["agent"].pending().status_code == 401
    paid["command"].refresh_from_db()
    assert paid["command"].status == "cancelled"
    assert DeliveryLog.objects.filter(command=paid["command"], kind="cancelled",
                                      message__contains="removed").exists()


# -- server isolation --------------------------------------------------------------------------

def test_server_b_cannot_see_or_report_server_a_commands(paid):
    _, b_secret, _ = add_server(paid["store"], "Creative")
    b = Agent(Client(), paid["agent"].store_secret, b_secret, instance="agent-b")
    assert b.pending().json()["commands"] == []
    before = _state(paid["command"])
    for response in (b.confirm(paid["command"].pk), b.fail(paid["command"].pk)):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert _state(paid["command"]) == before


def test_another_stores_agent_gets_404_for_our_command(paid):
    other = make_shop()
    _, secret, store_secret = add_server(other)
    outsider = Agent(Client(), store_secret, secret)
    before = _state(paid["command"])
    assert outsider.confirm(paid["command"].pk).status_code == 404
    assert _state(paid["command"]) == before


# -- transitions -------------------------------------------------------------------------------

def test_confirm_twice_changes_nothing(paid):
    agent, command = paid["agent"], paid["command"]
    first = agent.confirm(command.pk, output="Made Steve a VIP")
    assert first.status_code == 200
    assert first.json() == {"id": command.pk, "status": "completed", "changed": True}
    after_first = _state(command)
    second = agent.confirm(command.pk, output="again")
    assert second.status_code == 200 and second.json()["changed"] is False
    assert _state(command) == after_first
    command.refresh_from_db()
    assert command.output == "Made Steve a VIP" and command.attempt_count == 1


def test_completed_command_leaves_the_pending_list(paid):
    paid["agent"].confirm(paid["command"].pk)
    assert paid["agent"].pending().json()["commands"] == []


def test_retryable_failure_backs_off_then_is_due_again(paid):
    agent, command = paid["agent"], paid["command"]
    response = agent.fail(command.pk, "Connection refused", error_code="RCON_CONNECTION_FAILED")
    assert response.json() == {"id": command.pk, "status": "retrying", "changed": True}
    command.refresh_from_db()
    assert command.attempt_count == 1 and command.last_error_code == "RCON_CONNECTION_FAILED"
    assert timedelta(seconds=29) < command.execute_after - timezone.now() <= timedelta(seconds=30)
    assert agent.pending().json()["commands"] == []  # not before its time
    Cmd.objects.filter(pk=command.pk).update(execute_after=timezone.now() - timedelta(seconds=1))
    GameServer.objects.filter(pk=command.server_id).update(retry_due_at=timezone.now())
    (again,) = agent.pending().json()["commands"]
    assert again["id"] == command.pk and again["attempt"] == 2
    command.refresh_from_db()
    assert command.status == "pending"
    assert DeliveryLog.objects.filter(command=command, kind="due_again").exists()


def test_fail_twice_changes_nothing(paid):
    agent, command = paid["agent"], paid["command"]
    agent.fail(command.pk, "boom", attempt=1)
    after_first = _state(command)
    repeat = agent.fail(command.pk, "boom", attempt=1)
    assert repeat.status_code == 200 and repeat.json()["changed"] is False
    assert _state(command) == after_first


def test_a_late_report_for_an_earlier_attempt_changes_nothing(paid):
    agent, command = paid["agent"], paid["command"]
    agent.fail(command.pk, "boom", attempt=1)
    Cmd.objects.filter(pk=command.pk).update(status="pending", execute_after=None)
    before = _state(command)
    assert agent.fail(command.pk, "boom", attempt=1).json()["changed"] is False
    assert _state(command) == before


def test_last_attempt_fails_for_good_with_delivery_failed_event(paid):
    from shopkeep.delivery.services import delivery_settings_update

    store = paid["store"]
    delivery_settings_update(store=store, actor=Actor.for_user(owner_of(store)),
                             max_attempts=2, poll_seconds=60)
    agent, command = paid["agent"], paid["command"]
    agent.fail(command.pk, "Connection refused", error_code="RCON_CONNECTION_FAILED")
    Cmd.objects.filter(pk=command.pk).update(status="pending", execute_after=None)
    response = agent.fail(command.pk, "Connection refused: Unable to reach game server",
                          error_code="RCON_CONNECTION_FAILED")
    assert response.json()["status"] == "failed"
    command.refresh_from_db()
    assert command.failed_at is not None and command.execute_after is None
    item = paid["order"].items.get()
    assert item.delivery_status == "failed"
    event = Event.objects.get(event_type="delivery.failed")
    assert event.data["error"] == "Connection refused: Unable to reach game server"
    assert event.data["error_code"] == "RCON_CONNECTION_FAILED"
    assert event.data["attempt_count"] == 2
    assert event.data["server"] == {"id": paid["server"].pk, "name": "Survival"}
    assert event.data["items"] == [{"product_id": paid["product"].pk,
                                    "product_name": "VIP Rank", "quantity": 1,
                                    "delivery_status": "failed"}]
    assert agent.pending().json()["commands"] == []


def test_not_retryable_failure_is_final_at_once(paid):
    response = paid["agent"].fail(paid["command"].pk, "No player was found",
                                  error_code="PLAYER_NOT_FOUND", retryable=False)
    assert response.json()["status"] == "failed"
    assert Event.objects.filter(event_type="delivery.failed").count() == 1


def test_confirming_a_failed_command_is_409(paid):
    paid["agent"].fail(paid["command"].pk, "x", retryable=False)
    before = _state(paid["command"])
    response = paid["agent"].confirm(paid["command"].pk)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "command_failed"
    assert _state(paid["command"]) == before


def test_failing_a_completed_command_is_409(paid):
    paid["agent"].confirm(paid["command"].pk)
    before = _state(paid["command"])
    response = paid["agent"].fail(paid["command"].pk, "x")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "command_completed"
    assert _state(paid["command"]) == before


def test_bad_fail_bodies_are_refused(paid):
    agent, command = paid["agent"], paid["command"]
    before = _state(command)
    assert agent.fail(command.pk, "").status_code == 422
    response = agent.fail(command.pk, "x", error_code="lower case")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_error_code"
    assert _state(command) == before


def test_owner_retry_puts_failed_commands_back_with_a_new_attempt(paid):
    from shopkeep.delivery.services import commands_retry

    agent, command = paid["agent"], paid["command"]
    agent.fail(command.pk, "x", error_code="UNKNOWN_COMMAND", retryable=False)
    store = paid["store"]
    assert commands_retry(store=store, actor=Actor.for_user(owner_of(store)),
                          order=paid["order"]) == 1
    (again,) = agent.pending().json()["commands"]
    assert again["attempt"] == 2  # (id, attempt) never repeats, so an agent journal may run it
    assert paid["order"].items.get().delivery_status == "pending"
    assert agent.confirm(command.pk).json()["changed"] is True
    paid["order"].refresh_from_db()
    assert paid["order"].status == "completed"


def test_batch_confirm_judges_each_id(paid, django_capture_on_commit_callbacks):
    agent = paid["agent"]
    second_order = paid_order(paid["store"], paid["product"],
                              capture=django_capture_on_commit_callbacks)
    (second,) = commands_of(second_order)
    response = agent.client.post("/api/v1/agent/commands/confirm", {
        "ids": [paid["command"].pk, second.pk, 999_999, paid["command"].pk],
        "output": {str(second.pk): "done"}}, content_type="application/json",
        headers=agent.headers())
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r.get("status") for r in results] == ["completed", "completed", None]
    assert results[2]["error"]["code"] == "not_found"
    second.refresh_from_db()
    assert second.output == "done"


# -- wait for online ---------------------------------------------------------------------------

def test_waiting_commands_use_no_attempts_and_stay_listed(world,
                                                          django_capture_on_commit_callbacks):
    set_commands(world["product"], "purchase", "give {player} diamond 64", require_online=True)
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    agent = world["agent"]
    for _ in range(3):
        (listed,) = agent.pending().json()["commands"]
        assert listed["require_online"] is True and listed["attempt"] == 1
    command.refresh_from_db()
    assert command.attempt_count == 0 and command.status == "pending"


def test_refund_commands_never_wait(world, django_capture_on_commit_callbacks):
    from shopkeep.catalog.services import ActionInput, delivery_actions_set
    from shopkeep.core.errors import ServiceError

    with pytest.raises(ServiceError):
        delivery_actions_set(store=world["store"], actor=Actor.system(),
                             product=world["product"], trigger="refund",
                             actions=[ActionInput(commands=["x"], require_online=True)])


# -- one agent per server ----------------------------------------------------------------------

def test_second_instance_is_refused_while_the_first_is_alive(paid):
    first = paid["agent"]
    assert first.pending().status_code == 200
    second = first.with_instance("agent-b")
    for response in (second.pending(), second.confirm(paid["command"].pk),
                     second.heartbeat(["Steve"])):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "duplicate_agent"
    paid["command"].refresh_from_db()
    assert paid["command"].status == "pending"
    server = GameServer.objects.get(pk=paid["server"].pk)
    assert server.agent_instance == "agent-a" and server.duplicate_instance == "agent-b"
    assert server.duplicate_warning()
    assert first.pending().status_code == 200  # the holder is unaffected


def test_a_silent_instance_is_taken_over_after_the_lease(paid):
    first = paid["agent"]
    first.pending()
    GameServer.objects.filter(pk=paid["server"].pk).update(
        agent_seen_at=timezone.now() - timedelta(minutes=4))
    second = first.with_instance("agent-b")
    assert second.pending().status_code == 200
    assert first.pending().status_code == 409


def test_release_lets_a_new_instance_in_at_once(paid):
    from shopkeep.delivery.services import server_release_agent

    paid["agent"].pending()
    server_release_agent(store=paid["store"], actor=Actor.for_user(owner_of(paid["store"])),
                         server=paid["server"])
    assert paid["agent"].with_instance("agent-new").pending().status_code == 200


# -- ETag and long-poll ------------------------------------------------------------------------

def test_idle_poll_with_matching_etag_is_304(paid):
    agent = paid["agent"]
    first = agent.pending()
    etag = first["ETag"]
    again = agent.pending(**{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    agent.confirm(paid["command"].pk)
    changed = agent.pending(**{"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_new_command_changes_the_etag(paid, django_capture_on_commit_callbacks):
    agent = paid["agent"]
    etag = agent.pending()["ETag"]
    paid_order(paid["store"], paid["product"], capture=django_capture_on_commit_callbacks)
    response = agent.pending(**{"If-None-Match": etag})
    assert response.status_code == 200 and len(response.json()["commands"]) == 2


def test_limit_and_more(paid, django_capture_on_commit_callbacks):
    for _ in range(2):
        paid_order(paid["store"], paid["product"], capture=django_capture_on_commit_callbacks)
    body = paid["agent"].pending("?limit=2").json()
    assert body["meta"]["count"] == 2 and body["meta"]["more"] is True
    assert paid["agent"].pending("?limit=501").status_code == 422
    assert paid["agent"].pending("?wait=31").status_code == 422


def test_long_poll_with_nothing_new_answers_304_after_the_wait(paid):
    agent = paid["agent"]
    etag = agent.pending()["ETag"]
    response = agent.pending("?wait=1", **{"If-None-Match": etag})
    assert response.status_code == 304


def test_long_poll_with_commands_answers_at_once(paid):
    response = paid["agent"].pending("?wait=30")
    assert response.status_code == 200 and len(response.json()["commands"]) == 1


# -- heartbeat and rate limit ------------------------------------------------------------------

def test_heartbeat_records_status_and_players(paid):
    response = paid["agent"].heartbeat(["Steve", "Alex"], version="1.2.3")
    assert response.status_code == 200
    assert response.json()["next_heartbeat_seconds"] == 120
    server = GameServer.objects.get(pk=paid["server"].pk)
    assert server.is_online() and server.agent_version == "1.2.3"
    assert [p["name"] for p in server.online_players] == ["Steve", "Alex"]
    GameServer.objects.filter(pk=server.pk).update(
        last_heartbeat_at=timezone.now() - timedelta(minutes=5, seconds=1))
    server.refresh_from_db()
    assert not server.is_online()


def test_heartbeat_refuses_control_characters_in_names(paid):
    response = paid["agent"].heartbeat(["Steve\nop Steve"])
    assert response.status_code == 400
    assert GameServer.objects.get(pk=paid["server"].pk).last_heartbeat_at is None


def test_rate_limit_answers_429_with_retry_after(paid, settings):
    settings.SHOPKEEP_AGENT_RATE_LIMIT = 3
    agent = paid["agent"]
    codes = [agent.pending().status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = agent.pending()
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "rate_limited"


def test_rate_limit_is_per_server(paid, settings):
    settings.SHOPKEEP_AGENT_RATE_LIMIT = 2
    _, b_secret, _ = add_server(paid["store"], "Creative")
    b = Agent(Client(), paid["agent"].store_secret, b_secret, instance="agent-b")
    for _ in range(3):
        paid["agent"].pending()
    assert b.pending().status_code == 200


@pytest.mark.parametrize("hostile", ["Steve;op Steve", "Steve\nop Steve", "-Steve", "St eve"])
def test_hostile_player_name_is_refused_before_anything_is_queued(db, hostile):
    from shopkeep.core.errors import ServiceError
    from shopkeep.customers.services import CustomerInput
    from shopkeep.orders.models import Order
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import order_create

    store = make_shop()
    add_server(store)
    product = make_product(store, purchase_command="give {player} diamond")
    with pytest.raises(ServiceError):
        order_create(store=store, lines=[Line(product.pk, 1)],
                     customer=CustomerInput(email="x@example.com", player_name=hostile))
    assert not Order.objects.filter(store=store).exists()
    assert not Cmd.objects.filter(store=store).exists()
