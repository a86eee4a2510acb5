"""needs_review: a command that is not safe to run again and whose outcome is unknown waits
for the owner; safe-to-repeat commands are retried; a player's commands keep queue order."""

from __future__ import annotations

import pytest
from django.test import Client

from shopkeep.core.errors import Conflict
from shopkeep.core.tenancy import NotFound
from shopkeep.delivery.models import DeliveryCommand as Cmd
from shopkeep.delivery.models import DeliveryLog
from shopkeep.delivery.services import command_mark_delivered, command_run_again
from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog as AuditEntry
from tests.commerce import make_product, make_shop, paid_order
from tests.delivery.conftest import add_server, commands_of, set_commands
from tests.factories import owner_of

CRASH = "AGENT_CRASHED_DURING_EXECUTION"


@pytest.fixture
def paid(world, django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    return {**world, "order": order, "command": command,
            "owner": Actor.for_user(owner_of(world["store"]))}


def _crash(paid):
    return paid["agent"].fail(paid["command"].pk, "agent stopped mid-execution",
                              error_code=CRASH, retryable=False)


def test_unknown_outcome_of_unsafe_command_waits_for_review_without_delivery_failed(paid):
    response = _crash(paid)
    assert response.status_code == 200
    assert response.json() == {"id": paid["command"].pk, "status": "needs_review",
                               "changed": True}
    command = Cmd.objects.get(pk=paid["command"].pk)
    assert command.review_since is not None and command.failed_at is None
    assert not Event.objects.filter(event_type="delivery.failed").exists()
    assert paid["order"].items.get().delivery_status == "pending"
    assert paid["agent"].pending().json()["commands"] == []
    assert DeliveryLog.objects.filter(command=command, kind="needs_review").count() == 1


def test_repeating_the_crash_report_changes_nothing(paid):
    _crash(paid)
    logs = DeliveryLog.objects.count()
    assert _crash(paid).json()["changed"] is False
    assert DeliveryLog.objects.count() == logs
    assert Cmd.objects.get(pk=paid["command"].pk).attempt_count == 1


def test_connection_lost_in_flight_is_review_too(paid):
    paid["agent"].fail(paid["command"].pk, "lost the connection", error_code="OUTCOME_UNKNOWN",
                       retryable=False)
    assert Cmd.objects.get(pk=paid["command"].pk).status == "needs_review"


def test_unknown_outcome_of_safe_command_is_retried(world, django_capture_on_commit_callbacks):
    set_commands(world["product"], "purchase", "lp user {player} parent add vip",
                 safe_to_repeat=True)
    order = paid_order(world["store"], world["product"],
                       capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    assert command.safe_to_repeat is True
    listed = world["agent"].pending().json()["commands"]
    assert listed[0]["safe_to_repeat"] is True
    response = world["agent"].fail(command.pk, "crashed", error_code=CRASH, retryable=False)
    assert response.json()["status"] == "retrying"
    assert not Event.objects.filter(event_type="delivery.failed").exists()


def test_mark_delivered_completes_the_order_once(paid, django_capture_on_commit_callbacks):
    _crash(paid)
    command_mark_delivered(store=paid["store"], actor=paid["owner"], order=paid["order"],
                           command_id=paid["command"].pk)
    paid["order"].refresh_from_db()
    assert paid["order"].status == "completed"
    assert Cmd.objects.get(pk=paid["command"].pk).status == "completed"
    assert Event.objects.filter(event_type="delivery.completed").count() == 1
    assert AuditEntry.objects.filter(action="delivery.marked_delivered").count() == 1
    with pytest.raises(Conflict):
        command_mark_delivered(store=paid["store"], actor=paid["owner"], order=paid["order"],
                               command_id=paid["command"].pk)
    assert Event.objects.filter(event_type="delivery.completed").count() == 1


def test_run_again_queues_a_new_attempt_and_a_later_failure_is_announced(paid):
    _crash(paid)
    command_run_again(store=paid["store"], actor=paid["owner"], order=paid["order"],
                      command_id=paid["command"].pk)
    (again,) = paid["agent"].pending().json()["commands"]
    assert again["attempt"] == 2
    paid["agent"].fail(paid["command"].pk, "Unknown command", error_code="UNKNOWN_COMMAND",
                       retryable=False)
    assert Event.objects.filter(event_type="delivery.failed").count() == 1


def test_run_again_of_a_command_not_awaiting_review_is_refused(paid):
    with pytest.raises(Conflict):
        command_run_again(store=paid["store"], actor=paid["owner"], order=paid["order"],
                          command_id=paid["command"].pk)
    assert Cmd.objects.get(pk=paid["command"].pk).status == "pending"
    assert not AuditEntry.objects.filter(action="delivery.run_again").exists()


def test_an_outsider_store_cannot_review_the_command(paid):
    _crash(paid)
    other = make_shop(slug="other")
    with pytest.raises(NotFound):
        command_mark_delivered(store=other, actor=Actor.for_user(owner_of(other)),
                               order=paid["order"], command_id=paid["command"].pk)
    assert Cmd.objects.get(pk=paid["command"].pk).status == "needs_review"


def test_dashboard_buttons_decide_and_an_outsider_gets_404(paid):
    _crash(paid)
    store, order, command = paid["store"], paid["order"], paid["command"]
    owner = Client()
    owner.force_login(owner_of(store))
    page = owner.get(f"/dashboard/{store.slug}/orders/{order.pk}/")
    assert b'data-testid="mark-delivered"' in page.content
    other = make_shop(slug="outsider")
    outsider = Client()
    outsider.force_login(owner_of(other))
    url = f"/dashboard/{other.slug}/orders/{order.pk}/commands/{command.pk}/mark-delivered/"
    assert outsider.post(url).status_code == 404
    assert Cmd.objects.get(pk=command.pk).status == "needs_review"
    url = f"/dashboard/{store.slug}/orders/{order.pk}/commands/{command.pk}/run-again/"
    assert owner.post(url).status_code == 302
    assert Cmd.objects.get(pk=command.pk).status == "pending"


def test_refund_while_awaiting_review_cancels_it_and_queues_the_take_back(
        paid, django_capture_on_commit_callbacks):
    from shopkeep.payments.flows import refund_execute, refund_request

    _crash(paid)
    order = paid["order"]
    refund = refund_request(store=order.store, actor=paid["owner"], order=order, amount=None,
                            reason="test")
    with django_capture_on_commit_callbacks(execute=True):
        refund_execute(refund_id=refund.pk)
    statuses = {c.type: c.status for c in commands_of(order)}
    assert statuses == {"purchase": "cancelled", "refund": "pending"}


# -- queue order per player ----------------------------------------------------------------------

def test_a_players_later_command_waits_behind_their_retrying_one(
        world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first = paid_order(world["store"], world["product"], capture=capture)
    second = paid_order(world["store"], world["product"], capture=capture)
    other = paid_order(world["store"], world["product"], capture=capture)
    (a,), (b,), (c,) = commands_of(first), commands_of(second), commands_of(other)
    Cmd.objects.filter(pk=c.pk).update(player_name="Alex")  # another player's purchase
    agent = world["agent"]
    assert [x["id"] for x in agent.pending().json()["commands"]] == [a.pk, b.pk, c.pk]
    agent.fail(a.pk, "Connection refused", error_code="RCON_CONNECTION_FAILED")
    assert [x["id"] for x in agent.pending().json()["commands"]] == [c.pk]  # b waits behind a
    Cmd.objects.filter(pk=a.pk).update(status="pending", execute_after=None)
    assert [x["id"] for x in agent.pending().json()["commands"]] == [a.pk, b.pk, c.pk]


def test_a_command_failed_for_good_does_not_hold_the_player_forever(
        world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first = paid_order(world["store"], world["product"], capture=capture)
    second = paid_order(world["store"], world["product"], capture=capture)
    (a,), (b,) = commands_of(first), commands_of(second)
    world["agent"].fail(a.pk, "Unknown command", error_code="UNKNOWN_COMMAND", retryable=False)
    assert [x["id"] for x in world["agent"].pending().json()["commands"]] == [b.pk]


def test_a_command_awaiting_review_does_not_hold_the_players_later_purchases(
        world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first = paid_order(world["store"], world["product"], capture=capture)
    second = paid_order(world["store"], world["product"], capture=capture)
    (a,), (b,) = commands_of(first), commands_of(second)
    world["agent"].fail(a.pk, "crashed", error_code=CRASH, retryable=False)
    assert [x["id"] for x in world["agent"].pending().json()["commands"]] == [b.pk]


def test_delay_after_join_is_copied_to_the_command(db, django_capture_on_commit_callbacks):
    store = make_shop()
    add_server(store)
    product = make_product(store, name="Kit")
    set_commands(product, "purchase", "give {player} diamond 1", require_online=True,
                 delay_after_join=15)
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    assert (command.require_online, command.delay_after_join) == (True, 15)


def test_delay_without_waiting_for_online_is_refused(db):
    from shopkeep.core.errors import ServiceError

    store = make_shop()
    product = make_product(store, name="Kit")
    with pytest.raises(ServiceError) as info:
        set_commands(product, "purchase", "give {player} diamond 1", delay_after_join=15)
    assert info.value.field == "delay_after_join"
    # The action the product had is unchanged.
    assert [a.commands for a in product.delivery_actions.all()] == [["say Thanks {player}"]]


# -- agent version -------------------------------------------------------------------------------

def test_heartbeat_answer_names_the_newest_agent_and_the_server_is_flagged(paid, settings):
    settings.SHOPKEEP_AGENT_LATEST_VERSION = "2.3.0"
    answer = paid["agent"].heartbeat(version="2.2.9").json()
    assert answer["latest_agent_version"] == "2.3.0"
    server = paid["server"]
    server.refresh_from_db()
    assert server.agent_out_of_date() is True
    paid["agent"].heartbeat(version="2.3.0")
    server.refresh_from_db()
    assert server.agent_out_of_date() is False


def test_development_versions_are_not_flagged():
    from shopkeep.delivery.versions import is_older

    assert is_older("0.9.0", "1.0.0") is True
    assert is_older("1.0.0", "1.0.0") is False
    assert is_older("dev", "1.0.0") is False
    assert is_older("1.0.0", "") is False


def test_installed_agent_version_is_the_default(settings):
    import shopkeep_agent

    from shopkeep.delivery.versions import latest_agent_version

    settings.SHOPKEEP_AGENT_LATEST_VERSION = ""
    assert latest_agent_version() == shopkeep_agent.__version__
