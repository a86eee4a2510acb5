"""Settings > Discord and a product's Discord roles page (Django's test client)."""

from __future__ import annotations

import pytest
from django.test import Client

from shopkeep.catalog.models import DeliveryAction
from shopkeep.discord.check import run_check
from shopkeep.discord.models import DiscordSettings
from shopkeep.stores.models import Role
from tests.commerce import make_product, make_shop
from tests.discord.conftest import fake, world  # noqa: F401  (fixtures)
from tests.factories import add_member, owner_of

pytestmark = pytest.mark.django_db


def login(store, role=None) -> Client:
    client = Client()
    client.force_login(owner_of(store) if role is None else add_member(store, role).user)
    return client


def test_saving_shows_a_check_running_then_its_findings(fake):  # noqa: F811
    store = make_shop(slug="shop")
    guild = fake.add_guild()
    client = login(store)
    page = client.get("/dashboard/shop/settings/discord/")
    assert page.status_code == 200 and b"Not set up" in page.content
    response = client.post("/dashboard/shop/settings/discord/", {
        "bot_token": fake.token, "guild_id": guild["id"], "public_key": ""}, follow=True)
    html = response.content.decode()
    assert "Checking the bot with Discord now" in html
    assert 'data-testid="check-running"' in html and 'hx-trigger="every 2s"' in html
    assert fake.token not in html and f"…{fake.token[-4:]}" in html
    run_check(store_id=store.pk)  # the worker's turn
    card = client.get("/dashboard/shop/settings/discord/status/").content.decode()
    assert "hx-trigger" not in card  # done: the card stops polling
    assert "Interactions Endpoint URL" in card and "/claim registered" in card


def test_a_bad_server_id_is_a_form_message_and_saves_nothing(db):
    store = make_shop(slug="shop")
    response = login(store).post("/dashboard/shop/settings/discord/", {
        "bot_token": "x" * 60, "guild_id": "my server"})
    assert response.status_code == 400
    assert "17 to 20 digits" in response.content.decode()
    assert "x" * 60 not in response.content.decode()
    assert not DiscordSettings.objects.filter(store=store).exists()


def test_check_and_remove_buttons(world):  # noqa: F811
    client = login(world.store)
    response = client.post(f"/dashboard/{world.store.slug}/settings/discord/check/", follow=True)
    assert "Checking the bot with Discord" in response.content.decode()
    response = client.post(f"/dashboard/{world.store.slug}/settings/discord/disconnect/",
                           follow=True)
    assert "Discord bot removed" in response.content.decode()
    assert not DiscordSettings.objects.filter(store=world.store).exists()


def test_support_members_and_outsiders_cannot_open_the_settings(world):  # noqa: F811
    url = f"/dashboard/{world.store.slug}/settings/discord/"
    assert login(world.store, Role.SUPPORT).get(url).status_code == 403
    outsider = login(make_shop(slug="other", name="Other"))
    assert outsider.get(url).status_code == 404
    assert outsider.post(url + "disconnect/").status_code == 404
    assert DiscordSettings.objects.filter(store=world.store).exists()


def test_the_role_picker_lists_the_guilds_roles_and_saves_a_choice(world):  # noqa: F811
    product = make_product(world.store, name="Supporter", purchase_command=None)
    url = f"/dashboard/{world.store.slug}/products/{product.pk}/discord-roles/"
    client = login(world.store)
    html = client.get(url).content.decode()
    assert f'value="{world.vip}"' in html and "VIP" in html
    assert "managed by an integration" in html  # the bot's own role cannot be picked
    response = client.post(url, {"role_ids": [world.vip], "remove_on": ["refund",
                                                                        "chargeback"]},
                           follow=True)
    assert "Supporter now gives VIP on purchase." in response.content.decode()
    triggers = set(DeliveryAction.objects.filter(product=product, kind="discord_role")
                   .values_list("trigger", flat=True))
    assert triggers == {"purchase", "refund", "chargeback"}


def test_the_role_picker_refuses_an_unknown_role_id_and_keeps_the_old_roles(world):  # noqa: F811
    url = f"/dashboard/{world.store.slug}/products/{world.product.pk}/discord-roles/"
    response = login(world.store).post(url, {"role_ids_text": "1999999999999999999"})
    assert response.status_code == 400
    assert "is not in your Discord server&#x27;s role list" in response.content.decode()
    assert DeliveryAction.objects.get(product=world.product, kind="discord_role",
                                      trigger="purchase").role_ids == [world.vip]


def test_the_role_picker_of_another_stores_product_is_404(world):  # noqa: F811
    outsider_store = make_shop(slug="other", name="Other")
    url = f"/dashboard/other/products/{world.product.pk}/discord-roles/"
    client = login(outsider_store)
    assert client.get(url).status_code == 404
    assert client.post(url, {"role_ids_text": ""}).status_code == 404
    assert DeliveryAction.objects.filter(product=world.product, kind="discord_role").exists()


def test_the_command_editor_leaves_discord_roles_alone(world):  # noqa: F811
    url = f"/dashboard/{world.store.slug}/products/{world.product.pk}/commands/purchase/"
    response = login(world.store).post(url, {
        "action-TOTAL_FORMS": "1", "action-INITIAL_FORMS": "0", "action-MIN_NUM_FORMS": "0",
        "action-MAX_NUM_FORMS": "1000", "action-0-commands": "say hi {player}"})
    assert response.status_code == 302
    kinds = sorted(DeliveryAction.objects.filter(product=world.product, trigger="purchase")
                   .values_list("kind", flat=True))
    assert kinds == ["commands", "discord_role"]


def test_a_store_without_a_bot_is_told_where_to_connect_one(db):
    store = make_shop(slug="shop")
    product = make_product(store, purchase_command=None)
    html = login(store).get(f"/dashboard/shop/products/{product.pk}/discord-roles/")
    assert b"discord-not-set-up" in html.content
