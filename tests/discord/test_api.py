"""Store API for Discord settings and product roles; another store's token sees nothing."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from shopkeep.catalog.models import DeliveryAction
from shopkeep.discord.check import run_check
from shopkeep.discord.models import DiscordSettings
from shopkeep.payments.sealed import unseal
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, make_shop
from tests.factories import make_token

SCOPES = ["store:read", "store:write", "products:read", "products:write"]


def auth(store, scopes=SCOPES):
    _, raw = make_token(store, scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_saving_settings_seals_the_token_and_queues_a_check(client, db, fake):
    store = make_shop()
    guild = fake.add_guild()
    response = client.put("/api/v1/discord", {
        "guild_id": guild["id"], "bot_token": f"Bot {fake.token} "},
        content_type="application/json", **auth(store))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["bot_token_hint"] == f"…{fake.token[-4:]}"
    assert fake.token not in response.content.decode()
    assert body["check_running"] is True
    assert body["interactions_url"].endswith(f"/discord/interactions/{store.slug}")
    row = DiscordSettings.objects.get(store=store)
    assert fake.token not in row.bot_token_sealed
    assert unseal(row.bot_token_sealed, context=row.seal_context()) == fake.token
    assert DBTaskResult.objects.filter(task_path__endswith="discord_check").count() == 1
    assert fake.requests == []  # nothing sent to Discord from the request
    run_check(store_id=store.pk)
    body = client.get("/api/v1/discord", **auth(store)).json()
    assert body["check_running"] is False and body["guild_name"] == "Steve's Server"
    assert body["public_key"] == fake.public_key  # learned from the application
    assert fake.token not in str(AuditLog.objects.filter(store=store).values_list("details"))


def test_an_update_without_a_token_keeps_the_stored_one(client, world):
    sealed = DiscordSettings.objects.get(store=world.store).bot_token_sealed
    response = client.put("/api/v1/discord", {"guild_id": world.guild["id"],
                                              "public_key": world.fake.public_key},
                          content_type="application/json", **auth(world.store))
    assert response.status_code == 202
    assert DiscordSettings.objects.get(store=world.store).bot_token_sealed == sealed


def test_hostile_settings_are_refused_with_the_json_error_shape(client, db):
    store = make_shop()
    for body, code in [({"guild_id": "../../users/@me", "bot_token": "x" * 60}, "invalid_guild_id"),
                       ({"guild_id": "123456789012345678", "bot_token": "a b\nc" * 20},
                        "invalid_bot_token"),
                       ({"guild_id": "123456789012345678", "bot_token": "x" * 60,
                         "public_key": "zz"}, "invalid_public_key"),
                       ({"guild_id": "123456789012345678"}, "invalid_bot_token")]:
        response = client.put("/api/v1/discord", body, content_type="application/json",
                              **auth(store))
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == code
    assert not DiscordSettings.objects.filter(store=store).exclude(bot_token_sealed="").exists()


def test_product_roles_round_trip(client, world):
    product = make_product(world.store, name="Supporter", purchase_command=None)
    url = f"/api/v1/products/{product.pk}/discord-roles"
    response = client.put(url, {"role_ids": [world.vip], "remove_on": ["refund"]},
                          content_type="application/json", **auth(world.store))
    assert response.status_code == 200, response.content
    assert response.json() == {"role_ids": [world.vip], "remove_on": ["refund"],
                               "roles": [{"id": world.vip, "name": "VIP", "position": 5,
                                          "managed": False, "assignable": True}]}
    triggers = set(DeliveryAction.objects.filter(product=product, kind="discord_role")
                   .values_list("trigger", flat=True))
    assert triggers == {"purchase", "refund"}
    assert client.get(url, **auth(world.store)).json()["role_ids"] == [world.vip]


def test_a_role_not_in_the_guild_is_refused(client, world):
    response = client.put(f"/api/v1/products/{world.product.pk}/discord-roles",
                          {"role_ids": ["1999999999999999999"]},
                          content_type="application/json", **auth(world.store))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_role"
    assert DeliveryAction.objects.get(product=world.product, trigger="purchase",
                                      kind="discord_role").role_ids == [world.vip]


def test_a_role_name_instead_of_an_id_is_refused(client, world):
    response = client.put(f"/api/v1/products/{world.product.pk}/discord-roles",
                          {"role_ids": ["VIP"]}, content_type="application/json",
                          **auth(world.store))
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_role_ids"


def test_another_stores_token_sees_and_changes_nothing(client, world):
    outsider = auth(make_shop(slug="outsider", name="Outsider"))
    url = f"/api/v1/products/{world.product.pk}/discord-roles"
    assert client.get(url, **outsider).status_code == 404
    response = client.put(url, {"role_ids": []}, content_type="application/json", **outsider)
    assert response.status_code == 404
    assert DeliveryAction.objects.filter(product=world.product, kind="discord_role").exists()
    # Its own /discord is its own: empty, and saving it leaves this store's row alone.
    assert client.get("/api/v1/discord", **outsider).json()["configured"] is False
    before = DiscordSettings.objects.get(store=world.store)
    client.delete("/api/v1/discord", **outsider)
    after = DiscordSettings.objects.get(store=world.store)
    assert after.bot_token_sealed == before.bot_token_sealed


def test_read_scope_cannot_write(client, world):
    read_only = auth(world.store, ["store:read", "products:read"])
    assert client.put("/api/v1/discord", {"guild_id": world.guild["id"]},
                      content_type="application/json", **read_only).status_code == 403
    assert client.post("/api/v1/discord/check", **read_only).status_code == 403
    assert client.delete("/api/v1/discord", **read_only).status_code == 403
    assert DiscordSettings.objects.filter(store=world.store).exists()


def test_check_needs_settings_first(client, db):
    response = client.post("/api/v1/discord/check", **auth(make_shop()))
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_configured"


def test_delete_forgets_the_bot(client, world):
    assert client.delete("/api/v1/discord", **auth(world.store)).status_code == 204
    assert not DiscordSettings.objects.filter(store=world.store).exists()
