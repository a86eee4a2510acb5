"""Fixtures for the dashboard shell tests: one store, its owner, a support member and an
outsider (the owner of another store) who must see nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from shopkeep.events.models import Event
from shopkeep.stores.models import ApiToken, AuditLog, Membership, Role, Store
from tests.factories import add_member, make_store, owner_of


@pytest.fixture
def shop() -> Store:
    return make_store(slug="shop", name="Block Party")


@pytest.fixture
def shop_owner(shop):
    return owner_of(shop)


@pytest.fixture
def as_owner(shop_owner) -> Client:
    client = Client()
    client.force_login(shop_owner)
    return client


@pytest.fixture
def as_support(shop) -> Client:
    client = Client()
    client.force_login(add_member(shop, Role.SUPPORT).user)
    return client


@pytest.fixture
def as_outsider() -> Client:
    client = Client()
    client.force_login(owner_of(make_store(slug="elsewhere", name="Elsewhere")))
    return client


def _everything() -> tuple:
    return (
        sorted(Store.objects.values_list("pk", "name", "slug", "currency", "time_zone",
                                         "test_mode", "game", "plan", "status")),
        sorted(Membership.objects.values_list("pk", "store_id", "user_id", "role")),
        sorted(ApiToken.objects.values_list("pk", "store_id", "name", "revoked_at")),
        AuditLog.objects.count(),
        Event.objects.count(),
    )


@pytest.fixture
def state():
    """Call it before and after a request: every row a dashboard shell write could change,
    across all stores, so "changes nothing" is one comparison."""
    return _everything
