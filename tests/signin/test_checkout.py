"""Checkout with sign-ins: required sign-ins, the order's snapshot takes the verified ids
(never typed ones), and a paid order never replaces an id the customer proved."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.core.errors import ServiceError
from shopkeep.customers.models import Customer
from shopkeep.customers.services import CustomerInput
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.signin.services import signin_settings_update
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, pay
from tests.factories import owner_of
from tests.signin.conftest import discord_signin, steam_signin
from tests.storefront.shop import checkout_data, url

pytestmark = pytest.mark.django_db

DISCORD_ID = "80351110224678912"


def _add(client, product) -> None:
    response = client.post(url("basket_add"), {"product_id": product.pk, "quantity": 1})
    assert response.status_code == 302


@pytest.fixture
def role_product(store):
    return make_product(store, name="Discord VIP", price="5.00", requires_discord_signin=True)


def test_a_product_that_needs_discord_cannot_be_bought_without_it(client, store, role_product,
                                                                  fake_discord):
    _add(client, role_product)
    page = client.get(url("checkout"))
    assert b"Sign in with Discord" in page.content
    response = client.post(url("checkout"), checkout_data(discord_id=DISCORD_ID))
    assert response.status_code == 400
    assert b"Discord VIP needs you to sign in with Discord" in response.content
    assert not Order.objects.exists()
    assert not Customer.objects.exists()


def test_after_discord_sign_in_the_order_delivers_to_the_verified_account(
        client, store, role_product, fake_discord):
    _add(client, role_product)
    discord_signin(client, next_path=url("checkout"))
    page = client.get(url("checkout"))
    assert b"Signed in as <strong>nelly</strong>" in page.content
    response = client.post(url("checkout"), checkout_data(email="nelly@example.com"))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.player_discord_id == DISCORD_ID
    assert order.customer.discord_linked_at is not None
    created = Event.objects.get(event_type="customer.created")
    assert (created.data["discord_id"], created.data["discord_username"]) == (DISCORD_ID, "nelly")


def test_a_checkout_that_creates_the_customer_carries_the_sign_in(client, store, role_product,
                                                                  fake_discord):
    fake_discord.user["verified"] = False  # no e-mail from Discord: created at checkout
    _add(client, role_product)
    discord_signin(client, next_path=url("checkout"))
    assert not Customer.objects.exists()
    client.post(url("checkout"), checkout_data(email="steve@example.com"))
    customer = Customer.objects.get()
    assert (customer.discord_id, customer.discord_username) == (DISCORD_ID, "nelly")
    assert customer.discord_linked_at is not None
    created = Event.objects.get(event_type="customer.created")
    assert created.data["discord_id"] == DISCORD_ID
    assert Order.objects.get().player_discord_id == DISCORD_ID


def test_a_checkout_with_someone_elses_email_does_not_take_their_link(client, store,
                                                                      role_product,
                                                                      fake_discord):
    victim = Customer.objects.create(store=store, email="victim@example.com",
                                     referral_code="V1", discord_id="111111111111111111",
                                     discord_linked_at="2026-01-01T00:00:00Z",
                                     player_name="Victim")
    fake_discord.user["verified"] = False
    _add(client, role_product)
    discord_signin(client, next_path=url("checkout"))
    client.post(url("checkout"), checkout_data(email="victim@example.com", player_name="Victim"))
    order = Order.objects.get()
    assert order.player_discord_id == DISCORD_ID  # the buyer's own verified account
    victim.refresh_from_db()
    assert victim.discord_id == "111111111111111111"


def test_a_steam_game_takes_the_player_from_steam(client, store, fake_steam):
    store.game = "rust"
    store.save()
    product = make_product(store, name="Kit", price="3.00", purchase_command="kit {steam_id}")
    _add(client, product)
    steam_signin(client, next_path=url("checkout"))
    response = client.post(url("checkout"), checkout_data(player_name="76561198000000999"))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.player_name == order.player_steam_id == fake_steam.steam_id


def test_the_store_can_require_steam_for_every_purchase(client, store, fake_steam):
    signin_settings_update(store=store, actor=Actor.for_user(owner_of(store)),
                           discord_enabled=True, steam_enabled=True, steam_required=True)
    product = make_product(store, name="Kit", price="3.00")
    _add(client, product)
    response = client.post(url("checkout"), checkout_data())
    assert response.status_code == 400
    assert b"needs you to sign in with Steam" in response.content
    assert not Order.objects.exists()
    steam_signin(client, next_path=url("checkout"))
    assert client.post(url("checkout"), checkout_data()).status_code == 302
    assert Order.objects.get().player_steam_id == fake_steam.steam_id


def test_typed_ids_never_reach_the_order(client, store, fake_discord):
    product = make_product(store, name="Rank", price="3.00")
    _add(client, product)
    client.post(url("checkout"), checkout_data(discord_id=DISCORD_ID,
                                               steam_id="76561198000000001"))
    order = Order.objects.get()
    assert (order.player_discord_id, order.player_steam_id) == ("", "")


def test_the_service_refuses_a_required_sign_in_without_the_id(store, role_product):
    with pytest.raises(ServiceError) as refused:
        order_create(store=store, lines=[Line(role_product.pk)],
                     customer=CustomerInput(email="a@example.com", player_name="Steve"))
    assert refused.value.code == "signin_required"
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_a_paid_order_never_replaces_a_linked_id(store, django_capture_on_commit_callbacks):
    customer = Customer.objects.create(store=store, email="me@example.com", referral_code="M1",
                                       player_name="Steve", discord_id=DISCORD_ID,
                                       discord_linked_at="2026-01-01T00:00:00Z")
    product = make_product(store, name="Rank", price="3.00")
    order = order_create(store=store, lines=[Line(product.pk)], customer=CustomerInput(
        email="me@example.com", player_name="Other_Name"))
    checkout_start(order=order, success_url="/done", cancel_url="/basket")
    ok, _ = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok
    customer.refresh_from_db()
    assert customer.player_name == "Other_Name"  # unlinked fields follow the paid order
    assert customer.discord_id == DISCORD_ID and customer.discord_linked_at is not None


def test_signing_out_forgets_the_sign_ins(client, store, fake_discord):
    discord_signin(client)
    client.post(url("account_logout"))
    assert client.session.get(f"signin_verified_{store.pk}") is None


def test_a_product_giving_a_discord_role_needs_discord_at_the_storefront(client, store,
                                                                         fake_discord):
    from shopkeep.catalog.models import DeliveryAction
    from shopkeep.catalog.selectors import owner_required_signins, required_signins

    product = make_product(store, name="Role", price="2.00", purchase_command=None)
    DeliveryAction.objects.create(store=store, product=product, kind="discord_role",
                                  trigger="purchase", role_ids=["123456789012345678"])
    assert required_signins(product) == {"discord"}
    assert owner_required_signins(product) == frozenset()
    _add(client, product)
    response = client.post(url("checkout"), checkout_data())
    assert response.status_code == 400
    assert b"Role needs you to sign in with Discord" in response.content
    assert not Order.objects.exists()


def test_an_owner_edit_of_a_linked_id_unlinks_it(client, store):
    from shopkeep.customers.services import customer_update

    customer = Customer.objects.create(store=store, email="me@example.com", referral_code="M2",
                                       player_name="Steve", discord_id=DISCORD_ID,
                                       discord_linked_at="2026-01-01T00:00:00Z")
    owner = Client()
    owner.force_login(owner_of(store))
    page = owner.get(reverse("dashboard:customer_detail", args=[store.slug, customer.pk]))
    assert b"signed in with Discord" in page.content
    customer_update(store=store, actor=Actor.for_user(owner_of(store)), customer=customer,
                    data=CustomerInput(email="me@example.com", player_name="Steve",
                                       discord_id="222222222222222222"))
    customer.refresh_from_db()
    assert customer.discord_id == "222222222222222222" and customer.discord_linked_at is None
