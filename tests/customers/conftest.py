from __future__ import annotations

import pytest

from shopkeep.customers.models import Customer
from shopkeep.events.models import Event
from shopkeep.stores.models import AuditLog, Store
from tests.factories import make_store


@pytest.fixture
def store():
    return make_store()


def store_for_game(game: str) -> Store:
    store = make_store()
    Store.objects.filter(pk=store.pk).update(game=game)
    store.refresh_from_db()
    return store


def customer_state(store: Store) -> tuple:
    """Everything a customer write could change in ``store``."""
    return (
        sorted(Customer.objects.filter(store=store).values_list(
            "pk", "email", "name", "country", "player_name", "minecraft_uuid", "steam_id",
            "steam_username", "discord_id", "discord_username", "referral_code",
            "referred_by_id", "updated_at")),
        Event.objects.filter(store=store).count(),
        AuditLog.objects.filter(store=store).count(),
    )
