"""Test commands and manual deliveries: through the real queue and agent API, marked as
such, with no order, no event and no change to any order; audited; store-scoped."""

from __future__ import annotations

import pytest
from django.test import Client

from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import NotFound
from shopkeep.customers.models import Customer
from shopkeep.delivery import adhoc
from shopkeep.delivery.models import DeliveryCommand as Cmd
from shopkeep.delivery.models import DeliveryLog
from shopkeep.delivery.services import command_mark_delivered
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from tests.commerce import make_product, make_shop, paid_order
from tests.delivery.conftest import add_server, set_commands
from tests.factories import add_member, make_token, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(world):
    return Actor.for_user(owner_of(world["store"]))


@pytest.fixture
def customer(world, django_capture_on_commit_callbacks):
    paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    return Customer.objects.get(store=world["store"])


def test_test_command_reaches_the_agent_marked_as_test_without_an_order(world, owner):
    events = Event.objects.count()
    command = adhoc.command_send_test(store=world["store"], actor=owner, server=world["server"],
                                      command="/say hello {player}", player_name="Notch")
    (sent,) = world["agent"].pending().json()["commands"]
    assert sent["id"] == command.pk and sent["test"] is True and sent["origin"] == "test"
    assert sent["order"] is None and sent["product"] is None
    assert sent["command"] == "say hello {player}"  # the chat slash is dropped
    assert sent["placeholders"]["player"] == "Notch"
    assert sent["placeholders"]["order_number"] == "TEST"
    assert Event.objects.count() == events
    assert AuditLog.objects.filter(action="delivery.test_command_sent").count() == 1


def test_confirmed_test_command_shows_the_game_output_and_changes_no_order(world, owner):
    command = adhoc.command_send_test(store=world["store"], actor=owner, server=world["server"],
                                      command="list")
    orders = list(Order.objects.values_list("pk", "status"))
    events = Event.objects.count()
    world["agent"].pending()
    answer = world["agent"].confirm(command.pk, output="There are 2 of 20 players online")
    assert answer.status_code == 200 and answer.json()["status"] == "completed"
    command.refresh_from_db()
    assert command.output == "There are 2 of 20 players online"
    assert DeliveryLog.objects.filter(command=command, kind="confirmed").count() == 1
    assert list(Order.objects.values_list("pk", "status")) == orders
    assert Event.objects.count() == events  # no delivery.completed for a test


def test_failed_test_command_records_the_error_without_delivery_failed(world, owner):
    command = adhoc.command_send_test(store=world["store"], actor=owner, server=world["server"],
                                      command="nosuchcommand")
    world["agent"].pending()
    answer = world["agent"].fail(command.pk, "Unknown command", error_code="UNKNOWN_COMMAND",
                                 retryable=False)
    assert answer.json()["status"] == "failed"
    assert not Event.objects.filter(event_type="delivery.failed").exists()


def test_test_command_with_player_placeholder_needs_a_player(world, owner):
    with pytest.raises(ServiceError) as exc:
        adhoc.command_send_test(store=world["store"], actor=owner, server=world["server"],
                                command="give {player} diamond")
    assert exc.value.code == "player_required"
    assert not Cmd.objects.exists()


@pytest.mark.parametrize("text,code", [("say hi\nop me", "invalid_command"),
                                       ("say {nosuch}", "invalid_command"),
                                       ("   ", "invalid_command")])
def test_hostile_or_broken_test_commands_are_refused_and_queue_nothing(world, owner, text,
                                                                        code):
    with pytest.raises(ServiceError) as exc:
        adhoc.command_send_test(store=world["store"], actor=owner, server=world["server"],
                                command=text, player_name="Notch")
    assert exc.value.code == code
    assert not Cmd.objects.exists() and not AuditLog.objects.filter(
        action="delivery.test_command_sent").exists()


def test_hostile_test_player_name_is_refused(world, owner):
    with pytest.raises(ServiceError):
        adhoc.command_send_test(store=world["store"], actor=owner, server=world["server"],
                                command="say {player}", player_name="x; op me")
    assert not Cmd.objects.exists()


def test_support_member_cannot_send_test_commands(world):
    support = Actor.for_user(add_member(world["store"], Role.SUPPORT).user)
    with pytest.raises(ServiceError):
        adhoc.command_send_test(store=world["store"], actor=support, server=world["server"],
                                command="list")
    assert not Cmd.objects.exists()


def test_another_stores_server_is_not_found(world):
    other = make_shop(slug="other")
    with pytest.raises(NotFound):
        adhoc.command_send_test(store=other, actor=Actor.for_user(owner_of(other)),
                                server=world["server"], command="list")
    assert not Cmd.objects.exists()


def test_manual_product_delivery_queues_the_products_commands_for_the_customer(world, owner,
                                                                              customer):
    before_orders = Order.objects.count()
    queued = adhoc.manual_product_deliver(store=world["store"], actor=owner, customer=customer,
                                          product=world["product"], reason="lost in a crash")
    (command,) = queued.commands
    assert command.origin == "manual" and command.order_id is None
    assert command.customer_id == customer.pk and command.product_id == world["product"].pk
    assert command.reason == "lost in a crash"
    assert command.placeholders["player"] == "Steve"
    assert Order.objects.count() == before_orders
    (sent,) = [c for c in world["agent"].pending().json()["commands"] if c["id"] == command.pk]
    assert sent["origin"] == "manual" and sent["test"] is False
    assert sent["product"] == {"id": world["product"].pk, "name": "VIP Rank"}
    entry = AuditLog.objects.get(action="customer.manual_delivery")
    assert entry.details["reason"] == "lost in a crash"


def test_manual_delivery_needs_a_reason(world, owner, customer):
    count = Cmd.objects.count()
    with pytest.raises(ServiceError) as exc:
        adhoc.manual_product_deliver(store=world["store"], actor=owner, customer=customer,
                                     product=world["product"], reason="  ")
    assert exc.value.code == "reason_required"
    assert Cmd.objects.count() == count


def test_manual_delivery_of_a_product_without_commands_is_refused(world, owner, customer):
    bare = make_product(world["store"], name="Cape", purchase_command=None)
    count = Cmd.objects.count()
    with pytest.raises(ServiceError) as exc:
        adhoc.manual_product_deliver(store=world["store"], actor=owner, customer=customer,
                                     product=bare, reason="gift")
    assert exc.value.code == "nothing_to_deliver"
    assert Cmd.objects.count() == count


def test_manual_delivery_repeats_per_quantity_when_the_action_says_so(world, owner, customer):
    crate = make_product(world["store"], name="Crate key")
    set_commands(crate, "purchase", "crate give {player} 1", repeat_per_quantity=True)
    queued = adhoc.manual_product_deliver(store=world["store"], actor=owner, customer=customer,
                                          product=crate, reason="event prize", quantity=3)
    assert queued.count == 3
    assert {c.placeholders["quantity"] for c in queued.commands} == {"3"}


def test_manual_free_form_command_for_the_customer(world, owner, customer):
    command = adhoc.manual_command_send(store=world["store"], actor=owner, customer=customer,
                                        server=world["server"], command="give {player} apple",
                                        reason="compensation")
    assert command.rendered() == "give Steve apple"
    assert AuditLog.objects.filter(action="customer.manual_command").count() == 1


def test_manual_delivery_to_another_stores_customer_is_not_found(world, customer):
    other = make_shop(slug="other")
    other_product = make_product(other, name="X")
    set_commands(other_product, "purchase", "say {player}")
    add_server(other)
    count = Cmd.objects.count()
    with pytest.raises(NotFound):
        adhoc.manual_product_deliver(store=other, actor=Actor.for_user(owner_of(other)),
                                     customer=customer, product=other_product, reason="x")
    assert Cmd.objects.count() == count


def test_test_command_awaiting_review_can_be_marked_delivered(world, owner):
    command = adhoc.command_send_test(store=world["store"], actor=owner, server=world["server"],
                                      command="list")
    world["agent"].pending()
    world["agent"].fail(command.pk, "crashed", error_code="AGENT_CRASHED_DURING_EXECUTION",
                        retryable=False)
    command.refresh_from_db()
    assert command.status == "needs_review"
    command_mark_delivered(store=world["store"], actor=owner, order=None, command_id=command.pk)
    command.refresh_from_db()
    assert command.status == "completed"


# -- store API ---------------------------------------------------------------------------------

def _api(store, scopes):
    _, raw = make_token(store, scopes)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_sends_a_test_command_and_reads_it_back(world):
    client = _api(world["store"], ["servers:read", "servers:write"])
    response = client.post(f"/api/v1/servers/{world['server'].pk}/test-command",
                           {"command": "say hi {player}", "player_name": "Notch"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["origin"] == "test" and body["order_id"] is None
    detail = client.get(f"/api/v1/delivery/commands/{body['id']}").json()
    assert detail["log"][0]["kind"] == "queued"


def test_api_manual_delivery_by_product(world, customer):
    client = _api(world["store"], ["servers:write"])
    response = client.post(f"/api/v1/customers/{customer.pk}/manual-delivery",
                           {"product_id": world["product"].pk, "reason": "giveaway"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    assert [c["origin"] for c in response.json()["commands"]] == ["manual"]


def test_api_manual_delivery_without_product_or_command_is_a_clear_400(world, customer):
    client = _api(world["store"], ["servers:write"])
    response = client.post(f"/api/v1/customers/{customer.pk}/manual-delivery",
                           {"reason": "x"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "product_or_command"


def test_api_outsider_gets_404_and_queues_nothing(world, customer):
    other = make_shop(slug="other")
    client = _api(other, ["servers:read", "servers:write"])
    count = Cmd.objects.count()
    mine = adhoc.command_send_test(store=world["store"],
                                   actor=Actor.for_user(owner_of(world["store"])),
                                   server=world["server"], command="list")
    count = Cmd.objects.count()
    assert client.post(f"/api/v1/servers/{world['server'].pk}/test-command",
                       {"command": "list"}, content_type="application/json").status_code == 404
    assert client.post(f"/api/v1/customers/{customer.pk}/manual-delivery",
                       {"product_id": world["product"].pk, "reason": "x"},
                       content_type="application/json").status_code == 404
    assert client.get(f"/api/v1/delivery/commands/{mine.pk}").status_code == 404
    assert client.get(f"/api/v1/customers/{customer.pk}/manual-deliveries").status_code == 404
    assert Cmd.objects.count() == count


def test_api_read_scope_cannot_send(world):
    client = _api(world["store"], ["servers:read"])
    response = client.post(f"/api/v1/servers/{world['server'].pk}/test-command",
                           {"command": "list"}, content_type="application/json")
    assert response.status_code == 403
    assert not Cmd.objects.exists()
