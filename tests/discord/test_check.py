"""Settings > Discord's Check: each problem in plain words, found by asking the fake API."""

from __future__ import annotations

from shopkeep.discord.check import run_check
from shopkeep.discord.models import DiscordSettings
from tests.commerce import make_product, make_shop
from tests.discord.conftest import connect, set_roles


def problems(store) -> dict[str, str]:
    row = DiscordSettings.objects.get(store=store)
    return {p["code"]: p["message"] for p in row.problems}


def test_a_good_setup_reports_only_the_endpoint_to_set_and_registers_claim(world):
    found = problems(world.store)
    assert set(found) == {"endpoint_not_set"}
    assert f"/discord/interactions/{world.store.slug}" in found["endpoint_not_set"]
    (command,) = world.fake.guilds[world.guild["id"]]["commands"]
    assert command["name"] == "claim"
    assert [o["name"] for o in command["options"]] == ["order_number", "email"]
    row = DiscordSettings.objects.get(store=world.store)
    assert row.command_registered and row.guild_name == "Steve's Server"
    assert row.application_id == world.fake.application_id
    assert [r["name"] for r in row.roles] == ["Shopkeep", "VIP"]  # highest first
    assert [r["assignable"] for r in row.roles] == [False, True]


def test_the_endpoint_set_in_the_portal_means_no_problem(world):
    row = DiscordSettings.objects.get(store=world.store)
    world.fake.interactions_endpoint_url = problems(world.store)["endpoint_not_set"].rsplit(
        " ", 1)[1]
    run_check(store_id=row.store_id)
    assert problems(world.store) == {}


def test_checking_twice_registers_claim_once(world):
    run_check(store_id=world.store.pk)
    assert len(world.fake.guilds[world.guild["id"]]["commands"]) == 1
    posts = [r for r in world.fake.requests if r["method"] == "POST"]
    assert len(posts) == 1


def test_bot_not_in_the_guild(db, fake):
    store = make_shop()
    guild = fake.add_guild(bot_in=False)
    connect(store, fake, guild)
    found = problems(store)
    assert "bot_not_in_guild" in found
    assert found["bot_not_in_guild"].startswith(f"The bot is not in the Discord server "
                                                f"{guild['id']}")


def test_missing_manage_roles(db, fake):
    store = make_shop()
    guild = fake.add_guild(bot_permissions=0)
    connect(store, fake, guild)
    assert problems(store)["missing_manage_roles"].startswith(
        "The bot is missing the Manage Roles permission")


def test_a_product_role_above_the_bot_is_named(world):
    legend = world.fake.add_role(world.guild["id"], "Legend", position=20)
    run_check(store_id=world.store.pk)
    set_roles(make_product(world.store, name="Legend rank", purchase_command=None), legend)
    run_check(store_id=world.store.pk)
    assert problems(world.store)["role_above_bot"] == (
        "The bot's role Shopkeep is below role Legend (used by Legend rank): drag the bot's "
        "role above it in Server Settings > Roles.")


def test_a_product_role_deleted_in_discord_is_named(world):
    del world.fake.guilds[world.guild["id"]]["roles"][world.vip]
    run_check(store_id=world.store.pk)
    assert problems(world.store)["unknown_role"].startswith(
        f"Role id {world.vip} (used by Discord VIP) does not exist in this server")


def test_command_not_registered_without_the_commands_scope(db, fake):
    fake.commands_scope = False
    store = make_shop()
    connect(store, fake, fake.add_guild())
    assert "applications.commands" in problems(store)["command_not_registered"]
    assert not DiscordSettings.objects.get(store=store).command_registered


def test_a_revoked_token(world):
    world.fake.token = world.fake.token[:-4] + "XXXX"  # reset in the portal
    run_check(store_id=world.store.pk)
    assert set(problems(world.store)) == {"invalid_token"}


def test_a_public_key_of_another_application(world):
    from shopkeep.discord.services import discord_settings_update
    from shopkeep.stores.audit import Actor
    from tests.factories import owner_of

    discord_settings_update(store=world.store, actor=Actor.for_user(owner_of(world.store)),
                            guild_id=world.guild["id"], public_key="ab" * 32)
    run_check(store_id=world.store.pk)
    assert "public_key_mismatch" in problems(world.store)


def test_a_check_of_settings_that_changed_meanwhile_is_not_saved(world):
    from shopkeep.discord.check import Findings, _save

    row = DiscordSettings.objects.get(store=world.store)
    DiscordSettings.objects.filter(pk=row.pk).update(guild_id="1500000000000000001")
    found = Findings()
    found.add("bot_not_in_guild", "stale")
    _save(row, found)
    assert problems(world.store) != {"bot_not_in_guild": "stale"}
