from __future__ import annotations

import pytest

from shopkeep.stores.audit import Actor
from tests.factories import make_store, owner_of


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def owner(store):
    return owner_of(store)


@pytest.fixture
def actor(owner):
    return Actor.for_user(owner)
