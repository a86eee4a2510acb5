from __future__ import annotations

import pytest

from tests.commerce import make_product, make_shop
from tests.storefront.shop import SLUG


@pytest.fixture
def store():
    return make_shop(slug=SLUG, name="Block Party")


@pytest.fixture
def product(store):
    return make_product(store, name="VIP Rank", price="29.99", is_featured=True)


@pytest.fixture
def outsider():
    """Another tenant: nothing of it may show through the "shop" store's pages."""
    return make_shop(slug="other", name="Other Place")
