"""Issue 12, part 1: identity takeover through checkout.

Before the fix, a checkout with an existing customer's e-mail rewrote that customer's stored
player name, UUID, Steam id and Discord id without any payment, and the take-back commands of
the victim's *earlier* orders read those values: the refund, chargeback and subscription-end
commands then addressed the attacker. Each test below plays that attack and checks that
the victim's commands carry the victim's identity, frozen on the order at checkout.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from shopkeep.customers.models import Customer
from shopkeep.customers.services import CustomerInput
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.payments.gateways.sandbox import SandboxGateway
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, pay
from tests.delivery.conftest import Agent, add_server, set_commands
from tests.factories import make_token
from tests.storefront.shop import checkout_data, url

pytestmark = pytest.mark.django_db
Cmd = DeliveryCommand

TAKE = "{player} {uuid} {steam_id} {discord_id}"
VICTIM = CustomerInput(email="victim@example.com", player_name="Victim_1", name="Vic Tim",
                       minecraft_uuid="11111111-1111-4111-8111-111111111111",
                       steam_id="76561198000000001", discord_id="111111111111111111")
ATTACKER = CustomerInput(email="VICTIM@example.com", player_name="Mallory", name="Mal",
                         minecraft_uuid="22222222-2222-4222-8222-222222222222",
                         steam_id="76561198000000002", discord_id="222222222222222222")
VICTIM_VALUES = {"player": "Victim_1", "uuid": "11111111-1111-4111-8111-111111111111",
                 "steam_id": "76561198000000001", "discord_id": "111111111111111111"}


@pytest.fixture
def world(db):
    from tests.commerce import make_shop

    store = make_shop(slug="shop")
    server, server_secret, store_secret = add_server(store)
    product = make_product(store, name="VIP Rank", purchase_command=f"rank add {TAKE}")
    for trigger in ("refund", "chargeback"):
        set_commands(product, trigger, f"rank {trigger} {TAKE}")
    return {"store": store, "server": server, "product": product,
            "agent": Agent(Client(), store_secret, server_secret)}


def _checkout(store, product, who: CustomerInput) -> Order:
    order = order_create(store=store, lines=[Line(product.pk, 1)], customer=who)
    checkout_start(order=order, success_url="/done", cancel_url="/basket")
    order.refresh_from_db()
    return order


def _victim_buys_and_receives(world, capture, product=None) -> Order:
    order = _checkout(world["store"], product or world["product"], VICTIM)
    ok, message = pay(order, capture=capture)
    assert ok, message
    (purchase,) = Cmd.objects.filter(order=order, type="purchase")
    assert world["agent"].confirm(purchase.pk).status_code == 200
    return order


def _stored_identity(email: str = "victim@example.com") -> tuple:
    return Customer.objects.filter(email=email).values_list(
        "player_name", "minecraft_uuid", "steam_id", "discord_id", "name").get()


VICTIM_ROW = ("Victim_1", "11111111-1111-4111-8111-111111111111", "76561198000000001",
              "111111111111111111", "Vic Tim")


def _values(command: Cmd) -> dict:
    return {k: command.placeholders[k] for k in VICTIM_VALUES}


def _run_queued_tasks(capture) -> None:
    """Run what the web request queued, as the worker would."""
    for row in DBTaskResult.objects.filter(status="READY").order_by("enqueued_at"):
        with capture(execute=True):
            import_string(row.task_path).func(*row.args_kwargs["args"],
                                              **row.args_kwargs["kwargs"])
        row.delete()


def test_an_unpaid_checkout_with_someones_email_changes_nothing_of_theirs(world):
    _checkout(world["store"], world["product"], VICTIM)
    attacker_order = _checkout(world["store"], world["product"], ATTACKER)
    assert _stored_identity() == VICTIM_ROW
    assert Customer.objects.count() == 1
    # The attacker's own order is addressed to what the attacker typed, nothing of the victim.
    assert (attacker_order.player_name, attacker_order.player_uuid,
            attacker_order.player_steam_id, attacker_order.player_discord_id) == (
        "Mallory", ATTACKER.minecraft_uuid, ATTACKER.steam_id, ATTACKER.discord_id)


def test_a_storefront_checkout_with_someones_email_changes_nothing_of_theirs(
        world, django_capture_on_commit_callbacks):
    victim = _victim_buys_and_receives(world, django_capture_on_commit_callbacks)
    client = Client()
    client.post(url("product", world["product"].slug), {"quantity": "1"})
    response = client.post(url("checkout"), checkout_data(email="Victim@Example.com",
                                                          player_name="Mallory", name="Mal"))
    assert response.status_code == 302
    assert _stored_identity() == VICTIM_ROW
    victim.refresh_from_db()
    assert victim.player_name == "Victim_1"


def test_refund_after_an_unpaid_takeover_checkout_addresses_the_victim(
        world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    victim_order = _victim_buys_and_receives(world, capture)
    _checkout(world["store"], world["product"], ATTACKER)  # never paid
    _, raw = make_token(world["store"], ["orders:write"])
    response = Client().post(f"/api/v1/orders/{victim_order.pk}/refunds",
                             data=json.dumps({"reason": "requested"}),
                             content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 202, response.content
    _run_queued_tasks(capture)
    (refund,) = Cmd.objects.filter(order=victim_order, type="refund")
    assert _values(refund) == VICTIM_VALUES
    assert refund.rendered() == f"rank refund Victim_1 {VICTIM.minecraft_uuid} " \
                                f"{VICTIM.steam_id} {VICTIM.discord_id}"
    assert (refund.player_name, refund.player_uuid, refund.player_steam_id) == (
        "Victim_1", VICTIM.minecraft_uuid, VICTIM.steam_id)
    # Nothing of the attacker's reached any command of the victim's order.
    assert not any("Mallory" in json.dumps(c.placeholders)
                   for c in Cmd.objects.filter(order=victim_order))


def test_chargeback_after_an_unpaid_takeover_checkout_addresses_the_victim(
        world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    victim_order = _victim_buys_and_receives(world, capture)
    _checkout(world["store"], world["product"], ATTACKER)
    with capture(execute=True):
        SandboxGateway().simulate_dispute(payment_id=victim_order.gateway_payment_id)
    (chargeback,) = Cmd.objects.filter(order=victim_order, type="chargeback")
    assert _values(chargeback) == VICTIM_VALUES
    assert chargeback.player_name == "Victim_1"


def test_subscription_end_after_an_unpaid_takeover_checkout_addresses_the_victim(
        world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    monthly = make_product(world["store"], name="VIP Monthly", price="4.99", type="subscription",
                           billing_interval="month", purchase_command=f"rank add {TAKE}")
    set_commands(monthly, "subscription_cancel", f"rank end {TAKE}")
    victim_order = _victim_buys_and_receives(world, capture, product=monthly)
    sub = Subscription.objects.get(order=victim_order)
    assert (sub.player_name, sub.player_steam_id) == ("Victim_1", VICTIM.steam_id)
    _checkout(world["store"], monthly, ATTACKER)
    _, raw = make_token(world["store"], ["subscriptions:write"])
    response = Client().post(f"/api/v1/subscriptions/{sub.pk}/cancel",
                             data=json.dumps({"at_period_end": False}),
                             content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200, response.content
    (end,) = Cmd.objects.filter(order=victim_order, type="subscription_cancel")
    assert _values(end) == VICTIM_VALUES


def test_a_paid_order_updates_the_customer_but_never_an_earlier_order(
        world, django_capture_on_commit_callbacks):
    """docs/commerce.md: a paid order's identity becomes the stored one; past orders keep
    theirs, so the victim's refund still addresses the victim."""
    capture = django_capture_on_commit_callbacks
    victim_order = _victim_buys_and_receives(world, capture)
    other = _checkout(world["store"], world["product"], ATTACKER)
    ok, _ = pay(other, capture=capture)
    assert ok
    assert _stored_identity() == ("Mallory", ATTACKER.minecraft_uuid, ATTACKER.steam_id,
                                  ATTACKER.discord_id, "Mal")
    victim_order.refresh_from_db()
    assert victim_order.identity.player_name == "Victim_1"
    with capture(execute=True):
        SandboxGateway().simulate_dispute(payment_id=victim_order.gateway_payment_id)
    (chargeback,) = Cmd.objects.filter(order=victim_order, type="chargeback")
    assert _values(chargeback) == VICTIM_VALUES


def test_a_late_paid_notice_of_an_older_checkout_does_not_overwrite_a_newer_identity(
        world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    older = _checkout(world["store"], world["product"], ATTACKER)
    newer = _checkout(world["store"], world["product"], VICTIM)
    assert pay(newer, capture=capture)[0]
    assert pay(older, capture=capture)[0]  # paid after, but checked out before
    assert _stored_identity()[:4] == VICTIM_ROW[:4]


def test_a_returning_player_keeps_their_stored_ids_a_stranger_gets_none(world):
    _checkout(world["store"], world["product"], VICTIM)
    again = _checkout(world["store"], world["product"], CustomerInput(
        email="victim@example.com", player_name="Victim_1"))
    assert (again.player_uuid, again.player_steam_id, again.player_discord_id) == (
        VICTIM.minecraft_uuid, VICTIM.steam_id, VICTIM.discord_id)
    stranger = _checkout(world["store"], world["product"], CustomerInput(
        email="victim@example.com", player_name="Mallory"))
    assert (stranger.player_uuid, stranger.player_steam_id, stranger.player_discord_id) == (
        "", "", "")
