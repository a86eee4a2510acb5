"""End to end: a buyer signs in with Discord on the storefront (the fake OAuth server of
tests/signin), buys a product that gives a role, the worker's task assigns it in the fake
Discord server, a refund takes it away; a buyer who joins later gets it with /claim."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from shopkeep.delivery.models import DeliveryCommand
from shopkeep.discord.tasks import discord_deliver
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from tests.commerce import make_product, make_shop, pay
from tests.discord.conftest import connect, set_roles
from tests.discord.test_roles import _refund
from tests.signin.conftest import discord_signin, fake_discord  # noqa: F401  (fixture)
from tests.storefront.shop import SLUG, checkout_data, url

pytestmark = pytest.mark.django_db
BUYER = "80351110224678912"  # the fake OAuth server's user


@pytest.fixture
def shop(fake, fake_discord):  # noqa: F811
    store = make_shop(slug=SLUG, name="Block Party")
    guild = fake.add_guild()
    vip = fake.add_role(guild["id"], "VIP", position=5)
    connect(store, fake, guild)
    product = make_product(store, name="Discord VIP", price="5.00", purchase_command=None)
    set_roles(product, vip)
    return store, guild, vip, product


def _buy_on_the_storefront(client, product, capture) -> Order:
    assert client.post(url("basket_add"), {"product_id": product.pk,
                                           "quantity": 1}).status_code == 302
    discord_signin(client, next_path=url("checkout"))
    response = client.post(url("checkout"), checkout_data(email="nelly@example.com"))
    assert response.status_code == 302, response.content[:500]
    order = Order.objects.get()
    assert order.player_discord_id == BUYER  # from the sign-in, not typed
    ok, message = pay(order, capture=capture)
    assert ok, message
    return order


def _run_worker_task() -> None:
    """What `shopkeep worker` does with the task the payment enqueued."""
    queued = DBTaskResult.objects.filter(task_path__endswith="discord_deliver",
                                         status="READY")
    assert queued.exists()
    for _ in queued:
        discord_deliver.call()
    queued.delete()


def test_a_signed_in_buyer_gets_the_role_and_a_refund_takes_it_back(
        client, shop, fake, django_capture_on_commit_callbacks):
    store, guild, vip, product = shop
    fake.join(guild["id"], BUYER)
    order = _buy_on_the_storefront(client, product, django_capture_on_commit_callbacks)
    _run_worker_task()
    assert fake.roles_of(guild["id"], BUYER) == [vip]
    order.refresh_from_db()
    assert order.status == "completed"
    completed = Event.objects.get(store=store, event_type="delivery.completed").data
    assert completed["delivery_type"] == "discord"
    _refund(order, django_capture_on_commit_callbacks)
    _run_worker_task()
    assert fake.roles_of(guild["id"], BUYER) == []


def test_a_buyer_who_joins_after_buying_gets_the_role_with_claim(
        client, shop, fake, django_capture_on_commit_callbacks):
    import json

    from django.test import Client

    store, guild, vip, product = shop
    order = _buy_on_the_storefront(client, product, django_capture_on_commit_callbacks)
    _run_worker_task()
    (command,) = DeliveryCommand.objects.filter(order=order, kind="discord")
    assert command.status == "waiting_claim"
    page = client.get(url("order", order.access_key)).content.decode()
    assert "type /claim there" in page  # the buyer is told what to do
    fake.join(guild["id"], BUYER)
    body = json.dumps(fake.claim_payload(guild["id"], BUYER, username="nelly")).encode()
    answer = Client().post(f"/discord/interactions/{store.slug}", body,
                           content_type="application/json", headers=fake.sign(body)).json()
    assert answer["data"]["content"].startswith("Assigning VIP")
    _run_worker_task()
    assert fake.roles_of(guild["id"], BUYER) == [vip]
