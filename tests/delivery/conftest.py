"""A paid-order world for delivery tests: a store with a server, products with commands, and
an agent speaking the agent API through Django's test client."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from shopkeep.catalog.services import ActionInput, delivery_actions_set
from shopkeep.delivery.models import DeliveryCommand, GameServer
from shopkeep.delivery.services import server_create
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from tests.commerce import make_product, make_shop
from tests.factories import owner_of


@dataclass
class Agent:
    """An agent installation: secrets plus its instance id, talking through ``client``."""

    client: Client
    store_secret: str
    server_secret: str
    instance: str = "agent-a"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-Store-Secret": self.store_secret, "X-Server-Secret": self.server_secret,
                "X-Agent-Instance": self.instance, **extra}

    def pending(self, query: str = "", **headers: str):
        return self.client.get(f"/api/v1/agent/commands/pending{query}",
                               headers=self.headers(**headers))

    def confirm(self, command_id: int, output: str = "ok"):
        return self.client.post(f"/api/v1/agent/commands/{command_id}/confirm",
                                {"output": output}, content_type="application/json",
                                headers=self.headers())

    def fail(self, command_id: int, error: str = "Unknown command", **body):
        return self.client.post(f"/api/v1/agent/commands/{command_id}/fail",
                                {"error": error, **body}, content_type="application/json",
                                headers=self.headers())

    def heartbeat(self, players: list[str] = (), version: str = "1.0.0"):
        return self.client.post("/api/v1/agent/heartbeat", {
            "agent_version": version, "instance_id": self.instance,
            "players": [{"name": p} for p in players]},
            content_type="application/json", headers=self.headers())

    def with_instance(self, instance: str) -> Agent:
        return Agent(self.client, self.store_secret, self.server_secret, instance)


def add_server(store: Store, name: str = "Survival") -> tuple[GameServer, str, str | None]:
    return server_create(store=store, actor=Actor.for_user(owner_of(store)), name=name)


def set_commands(product, trigger: str, *commands: str, **options) -> None:
    delivery_actions_set(store=product.store, actor=Actor.for_user(owner_of(product.store)),
                         product=product, trigger=trigger,
                         actions=[ActionInput(commands=list(commands), **options)])


def commands_of(order, **filters) -> list[DeliveryCommand]:
    return list(DeliveryCommand.objects.filter(order=order, **filters).order_by("id"))


@pytest.fixture
def world(db):
    """store, server, agent, and a product whose purchase gives a rank and whose refund
    takes it back."""
    store = make_shop()
    server, server_secret, store_secret = add_server(store)
    product = make_product(store, name="VIP Rank")
    set_commands(product, "purchase", "lp user {player} parent add vip")
    set_commands(product, "refund", "lp user {player} parent remove vip")
    agent = Agent(Client(), store_secret, server_secret)
    return {"store": store, "server": server, "product": product, "agent": agent}
