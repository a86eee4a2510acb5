"""Product event ``data`` has the shape of seed 002's examples, field for field."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from shopkeep.catalog.services import (
    ProductInput,
    category_create,
    product_create,
    product_delete,
    product_update,
)
from shopkeep.core.timefmt import iso
from tests.catalog.seed_examples import PRODUCT_CREATED, PRODUCT_DELETED, PRODUCT_UPDATED
from tests.catalog.state import events
from tests.payload_shape import assert_same_shape

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"^\d+\.\d{2}$")


@pytest.fixture
def sword(store, actor):
    category = category_create(store=store, actor=actor, name="Weapons")
    return product_create(store=store, actor=actor, data=ProductInput(
        name="Diamond Sword", price="14.99", category_id=category.pk,
        description="A powerful diamond sword for your adventures"))


def test_product_created_matches_the_seed(store, sword):
    [event] = events(store, "product.created")
    assert_same_shape(event.data, PRODUCT_CREATED)
    assert event.data == {
        "product_id": sword.pk, "name": "Diamond Sword", "slug": "diamond-sword",
        "description": "A powerful diamond sword for your adventures", "price": "14.99",
        "currency": "USD", "type": "digital", "category": "Weapons",
        "category_id": sword.category_id, "is_active": True, "is_featured": False,
        "stock_quantity": None, "stock_enabled": False, "created_at": iso(sword.created_at),
    }


def test_product_created_without_category_or_with_stock_keeps_the_shape(store, actor):
    product_create(store=store, actor=actor, data=ProductInput(
        name="Kit", price="1", stock_enabled=True, stock_quantity=3))
    [event] = events(store, "product.created")
    assert_same_shape(event.data, PRODUCT_CREATED | {"category": None, "category_id": None})
    assert (event.data["category"], event.data["stock_quantity"]) == (None, 3)
    assert MONEY.match(event.data["price"])


def test_product_updated_matches_the_seed(store, actor, sword):
    product_update(store=store, actor=actor, product=sword, data=ProductInput(
        name="Diamond Sword", price="12.99", category_id=sword.category_id,
        description=sword.description))
    [event] = events(store, "product.updated")
    assert_same_shape(event.data, PRODUCT_UPDATED)
    sword.refresh_from_db()
    assert event.data["changes"] == {"price": {"old": "14.99", "new": "12.99"}}
    assert event.data["updated_at"] == iso(sword.updated_at)
    assert (event.data["product_id"], event.data["currency"]) == (sword.pk, "USD")


def test_product_updated_changes_carry_payload_types(store, actor, sword):
    product_update(store=store, actor=actor, product=sword, data=replace(
        ProductInput(name="Diamond Sword", price="14.99", category_id=None,
                     description=sword.description), is_active=False))
    [event] = events(store, "product.updated")
    assert event.data["changes"] == {
        "category_id": {"old": sword.category_id, "new": None},
        "is_active": {"old": True, "new": False},
    }
    assert event.data["is_active"] is False


def test_product_deleted_matches_the_seed(store, actor, sword):
    product_delete(store=store, actor=actor, product=sword)
    [event] = events(store, "product.deleted")
    assert_same_shape(event.data, PRODUCT_DELETED)
    sword.refresh_from_db()
    assert event.data == {"product_id": sword.pk, "name": "Diamond Sword",
                          "slug": "diamond-sword", "deleted_at": iso(sword.deleted_at)}


# -- the helper itself: a shape check that cannot fail would prove nothing -------------------


@pytest.mark.parametrize("broken", [
    {k: v for k, v in PRODUCT_DELETED.items() if k != "slug"},  # missing key
    PRODUCT_DELETED | {"extra": 1},  # key not in the seed
    PRODUCT_DELETED | {"product_id": "103"},  # string for number
    PRODUCT_DELETED | {"deleted_at": "2025-01-22 09:00:00"},  # wrong timestamp format
    PRODUCT_DELETED | {"name": None},  # null where the seed has a string
])
def test_assert_same_shape_catches_drift(broken):
    with pytest.raises(AssertionError):
        assert_same_shape(broken, PRODUCT_DELETED)


def test_assert_same_shape_tells_booleans_from_numbers():
    with pytest.raises(AssertionError):
        assert_same_shape(PRODUCT_CREATED | {"is_active": 1}, PRODUCT_CREATED)
    with pytest.raises(AssertionError):
        assert_same_shape(PRODUCT_CREATED | {"category_id": True}, PRODUCT_CREATED)


def test_assert_same_shape_recurses_into_nested_objects():
    with pytest.raises(AssertionError):
        assert_same_shape(PRODUCT_UPDATED | {"changes": {"price": {"old": "14.99"}}},
                          PRODUCT_UPDATED)
