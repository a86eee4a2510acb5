"""A store whose Discord bot is set up against the local fake Discord API."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from shopkeep.discord import client as discord_client
from shopkeep.discord.check import run_check
from shopkeep.discord.deliver import deliver_due
from shopkeep.discord.services import RolesInput, discord_settings_update, product_discord_roles_set
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, make_shop
from tests.discord.fake_discord import FakeDiscord
from tests.factories import owner_of

BUYER = "1200000000000000001"


@pytest.fixture
def fake(settings):
    server = FakeDiscord().start()
    settings.DISCORD_API_BASE = server.url
    # The limiter is per process; each test starts with Discord's buckets unknown.
    discord_client.forget_limiters()
    yield server
    server.stop()


@dataclass
class World:
    fake: FakeDiscord
    store: object
    guild: dict
    vip: str
    product: object
    sleeps: list

    def deliver(self) -> int:
        return deliver_due(sleep=self.sleeps.append)

    def interact(self, payload: dict, *, headers: dict | None = None, slug: str | None = None,
                 client: Client | None = None):
        body = json.dumps(payload).encode()
        return (client or Client()).post(
            f"/discord/interactions/{slug or self.store.slug}", body,
            content_type="application/json",
            headers=self.fake.sign(body) if headers is None else headers)


def set_roles(product, *role_ids: str, remove_on=None) -> None:
    data = RolesInput(role_ids=list(role_ids)) if remove_on is None else \
        RolesInput(role_ids=list(role_ids), remove_on=remove_on)
    product_discord_roles_set(store=product.store, actor=Actor.for_user(owner_of(product.store)),
                              product=product, data=data)


def connect(store, fake: FakeDiscord, guild: dict) -> None:
    discord_settings_update(store=store, actor=Actor.for_user(owner_of(store)),
                            guild_id=guild["id"], public_key=fake.public_key,
                            bot_token=fake.token)
    run_check(store_id=store.pk)


@pytest.fixture
def world(db, fake) -> World:
    store = make_shop()
    guild = fake.add_guild()
    vip = fake.add_role(guild["id"], "VIP", position=5)
    connect(store, fake, guild)
    product = make_product(store, name="Discord VIP", price="9.99", purchase_command=None)
    set_roles(product, vip)
    return World(fake=fake, store=store, guild=guild, vip=vip, product=product, sleeps=[])
