"""Commands appear with the business event that causes them, and item/order state follows
the commands (seed 001; seed 002 delivery events)."""

from __future__ import annotations

from shopkeep.delivery.models import DeliveryCommand, DeliveryLog
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, OrderItem
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, paid_order, place_order
from tests.delivery.conftest import add_server, commands_of, set_commands
from tests.factories import owner_of

Cmd = DeliveryCommand


def test_paying_queues_one_command_per_action_template_and_server(
        world, django_capture_on_commit_callbacks):
    second, _, _ = add_server(world["store"], "Creative")
    set_commands(world["product"], "purchase", "lp user {player} parent add vip",
                 "say {player} is now VIP")
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    rows = commands_of(order)
    assert len(rows) == 4  # 2 templates x 2 servers
    assert {r.server_id for r in rows} == {world["server"].pk, second.pk}
    first = rows[0]
    assert first.type == "purchase" and first.status == "pending"
    assert first.command == "lp user {player} parent add vip"  # never spliced on our side
    assert first.placeholders["player"] == "Steve"
    assert first.placeholders["order_number"] == order.order_number
    assert first.placeholders["price"] == "29.99"
    assert "player@example.com" not in str(first.placeholders)  # no e-mail in placeholders
    assert DeliveryLog.objects.filter(command=first, kind="queued").count() == 1


def test_unpaid_order_queues_nothing(world):
    place_order(world["store"], world["product"])
    assert not Cmd.objects.exists()


def test_repeat_per_quantity_makes_one_command_per_unit(world, django_capture_on_commit_callbacks):
    set_commands(world["product"], "purchase", "give {player} diamond", repeat_per_quantity=True)
    order = paid_order(world["store"], world["product"], quantity=3,
                       capture=django_capture_on_commit_callbacks)
    assert len(commands_of(order)) == 3
    assert commands_of(order)[0].placeholders["quantity"] == "3"


def test_action_limited_to_chosen_servers(world, django_capture_on_commit_callbacks):
    other, _, _ = add_server(world["store"], "Creative")
    set_commands(world["product"], "purchase", "kit vip {player}", all_servers=False,
                 server_ids=[other.pk])
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    assert [c.server_id for c in commands_of(order)] == [other.pk]


def test_removed_server_gets_no_new_commands(world, django_capture_on_commit_callbacks):
    from shopkeep.delivery.services import server_remove

    other, _, _ = add_server(world["store"], "Old")
    server_remove(store=world["store"], actor=Actor.for_user(owner_of(world["store"])),
                  server=other)
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    assert {c.server_id for c in commands_of(order)} == {world["server"].pk}


def test_product_without_commands_is_delivered_at_payment(world,
                                                           django_capture_on_commit_callbacks):
    plain = make_product(world["store"], name="Thanks", price="1.00", purchase_command=None)
    order = paid_order(world["store"], plain, capture=django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert order.items.get().delivery_status == "delivered"
    event = Event.objects.get(event_type="delivery.completed")
    assert event.data["delivery_type"] == "manual" and event.data["server"] is None
    assert Event.objects.filter(event_type="order.completed").count() == 1


def test_confirming_every_command_delivers_item_and_order_once(
        world, django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    agent = world["agent"]
    assert agent.confirm(command.pk).status_code == 200
    order.refresh_from_db()
    item = order.items.get()
    assert item.delivery_status == "delivered" and item.delivered_at is not None
    assert order.status == Order.Status.COMPLETED
    event = Event.objects.get(event_type="delivery.completed")
    assert event.data["delivery_type"] == "rcon"
    assert event.data["server"] == {"id": world["server"].pk, "name": "Survival"}
    assert event.data["items"][0]["delivery_status"] == "delivered"
    assert agent.confirm(command.pk).json()["changed"] is False
    assert Event.objects.filter(event_type="delivery.completed").count() == 1


def test_order_not_complete_while_one_command_is_open(world, django_capture_on_commit_callbacks):
    set_commands(world["product"], "purchase", "a {player}", "b {player}")
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    first, _second = commands_of(order)
    world["agent"].confirm(first.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert order.items.get().delivery_status == "pending"
    assert not Event.objects.filter(event_type="delivery.completed").exists()


def test_full_refund_before_delivery_cancels_purchase_commands_and_queues_no_take_back(
        world, django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    _refund(order, django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    assert command.status == "cancelled" and command.cancelled_at is not None
    assert DeliveryLog.objects.filter(command=command, kind="cancelled").exists()
    # Nothing was given, so nothing is taken back.
    assert not Cmd.objects.filter(order=order, type="refund").exists()
    assert OrderItem.objects.get(order=order).delivery_status == "cancelled"
    response = world["agent"].confirm(command.pk)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "command_cancelled"


def test_full_refund_after_delivery_queues_refund_commands(world,
                                                           django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (purchase,) = commands_of(order)
    world["agent"].confirm(purchase.pk)
    _refund(order, django_capture_on_commit_callbacks)
    refund = Cmd.objects.get(order=order, type="refund")
    assert refund.command == "lp user {player} parent remove vip"
    assert refund.require_online is False and refund.status == "pending"
    # A replayed refund notice adds nothing.
    from shopkeep.delivery.queue import on_order_refunded

    order.refresh_from_db()
    from django.db import transaction

    with transaction.atomic():
        on_order_refunded(order=order, actor="test")
    assert Cmd.objects.filter(order=order, type="refund").count() == 1


def test_partial_refund_takes_nothing_back(world, django_capture_on_commit_callbacks):
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (purchase,) = commands_of(order)
    _refund(order, django_capture_on_commit_callbacks, amount="5.00")
    purchase.refresh_from_db()
    assert purchase.status == "pending"
    assert not Cmd.objects.filter(order=order, type="refund").exists()


def test_dispute_queues_chargeback_commands_at_once(world, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from shopkeep.payments.flows import dispute_open

    set_commands(world["product"], "chargeback", "ban {player} chargeback")
    order = paid_order(world["store"], world["product"], capture=django_capture_on_commit_callbacks)
    (purchase,) = commands_of(order)
    world["agent"].confirm(purchase.pk)
    dispute_open(store=order.store,
                 gateway="sandbox", order_number=order.order_number, dispute_id="dp_1",
                 charge_id="ch_1", amount_minor=2999, currency="USD", reason="fraudulent",
                 reason_description="", evidence_due_by=None, opened_at=timezone.now())
    chargeback = Cmd.objects.get(order=order, type="chargeback")
    assert chargeback.command == "ban {player} chargeback"
    assert chargeback.require_online is False


def test_subscription_end_queues_cancel_commands(world, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from shopkeep.payments.gateways.base import Notice
    from shopkeep.payments.services import notice_receive
    from shopkeep.subscriptions.models import Subscription

    monthly = make_product(world["store"], name="Monthly VIP", price="4.99",
                           type="subscription", billing_interval="month")
    set_commands(monthly, "purchase", "lp user {player} parent add vip")
    set_commands(monthly, "subscription_cancel", "lp user {player} parent remove vip")
    order = paid_order(world["store"], monthly, capture=django_capture_on_commit_callbacks)
    (purchase,) = commands_of(order)
    world["agent"].confirm(purchase.pk)
    sub = Subscription.objects.get(order=order)
    notice_receive(store=sub.store, gateway=sub.payment_gateway, notice=Notice(
        event_id="evt_sub_cancelled", kind="subscription.cancelled", occurred_at=timezone.now(),
        reference=order.order_number, subscription_id=sub.gateway_subscription_id))
    cancel = Cmd.objects.get(order=order, type="subscription_cancel")
    assert cancel.command == "lp user {player} parent remove vip"
    assert cancel.status == "pending"


def _refund(order: Order, capture, amount: str | None = None) -> None:
    from decimal import Decimal

    refund = refund_request(store=order.store, actor=Actor.for_user(owner_of(order.store)),
                            order=order, amount=Decimal(amount) if amount else None,
                            reason="Customer request")
    with capture(execute=True):
        refund_execute(refund_id=refund.pk)
    order.refresh_from_db()
