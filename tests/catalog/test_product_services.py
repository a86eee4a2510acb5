"""product_create, product_update and product_delete: validation, events and permissions."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from shopkeep.catalog.models import Product
from shopkeep.catalog.services import (
    ProductInput,
    category_create,
    product_create,
    product_delete,
    product_update,
)
from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from tests.catalog.state import catalog_state, events
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db

SWORD = ProductInput(name="Diamond Sword", price="14.99",
                     description="A powerful diamond sword")
MONTHLY = ProductInput(name="VIP Monthly", price="9.99", type=Product.Type.SUBSCRIPTION,
                       billing_interval=Product.Interval.MONTH, trial_days=7)


@pytest.fixture
def sword(store, actor):
    return product_create(store=store, actor=actor, data=SWORD)


# -- product_create -------------------------------------------------------------------------


def test_owner_creates_a_product_with_one_event_and_one_audit_row(store, actor):
    product = product_create(store=store, actor=actor, data=SWORD)
    assert (product.store, product.name, product.slug, product.price, product.currency) == (
        store, "Diamond Sword", "diamond-sword", Decimal("14.99"), "USD")
    [event] = events(store)
    assert event.event_type == "product.created"
    assert event.data["product_id"] == product.pk
    assert event.data["price"] == "14.99"
    assert AuditLog.objects.filter(store=store, action="product.created").count() == 1


def test_admin_creates_a_product(store):
    admin = add_member(store, Role.ADMIN).user
    product_create(store=store, actor=Actor.for_user(admin), data=SWORD)
    assert Product.objects.filter(store=store).count() == 1


def test_a_subscription_keeps_its_interval_and_trial(store, actor):
    product = product_create(store=store, actor=actor, data=MONTHLY)
    product.refresh_from_db()
    assert (product.type, product.billing_interval, product.trial_days) == (
        "subscription", "month", 7)


def test_a_one_time_product_drops_an_interval_and_trial_it_was_given(store, actor):
    # The dashboard form always posts both fields; they only mean something for subscriptions.
    product = product_create(store=store, actor=actor, data=replace(
        SWORD, billing_interval="month", trial_days=14))
    product.refresh_from_db()
    assert (product.billing_interval, product.trial_days) == ("", 0)


def test_the_price_uses_the_stores_currency(actor):
    store = make_store(currency="JPY")
    product = product_create(store=store, actor=Actor.for_user(owner_of(store)),
                             data=replace(SWORD, price="1500"))
    assert (product.price, product.currency) == (Decimal("1500"), "JPY")
    assert events(store)[0].data["price"] == "1500"


def test_a_yen_price_with_decimals_is_refused():
    store = make_store(currency="JPY")
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        product_create(store=store, actor=Actor.for_user(owner_of(store)),
                       data=replace(SWORD, price="1500.50"))
    assert (exc.value.code, exc.value.field) == ("invalid_price", "price")
    assert catalog_state(store) == before


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"price": "abc"}, "invalid_price", "price"),
    ({"price": "-1.00"}, "invalid_price", "price"),
    ({"price": "1.999"}, "invalid_price", "price"),
    ({"price": "1000000"}, "invalid_price", "price"),
    ({"price": ""}, "invalid_price", "price"),
    ({"name": ""}, "invalid_name", "name"),
    ({"name": "Sword\r\nop Steve"}, "invalid_name", "name"),
    ({"name": "x" * 121}, "invalid_name", "name"),
    ({"slug": "Diamond Sword"}, "invalid_slug", "slug"),
    ({"description": "x" * 20_001}, "invalid_description", "description"),
    ({"type": "bundle"}, "invalid_type", "type"),
    ({"type": "subscription"}, "invalid_interval", "billing_interval"),
    ({"type": "subscription", "billing_interval": "fortnight"}, "invalid_interval",
     "billing_interval"),
    ({"type": "subscription", "billing_interval": "month", "price": "0"}, "invalid_price",
     "price"),
    ({"type": "subscription", "billing_interval": "month", "trial_days": 366},
     "invalid_trial", "trial_days"),
    ({"type": "subscription", "billing_interval": "month", "trial_days": -1},
     "invalid_trial", "trial_days"),
    ({"category_id": 999_999}, "invalid_category", "category_id"),
    ({"stock_enabled": True}, "invalid_stock", "stock_quantity"),
    ({"stock_enabled": True, "stock_quantity": -1}, "invalid_stock", "stock_quantity"),
])
def test_product_create_refuses_invalid_input_and_writes_nothing(store, actor, changes, code,
                                                                  field):
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        product_create(store=store, actor=actor, data=replace(SWORD, **changes))
    assert (exc.value.code, exc.value.field) == (code, field)
    assert catalog_state(store) == before


def test_a_category_of_another_store_reads_as_missing(store, actor):
    other = make_store()
    foreign = category_create(store=other, actor=Actor.for_user(owner_of(other)), name="Ranks")
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        product_create(store=store, actor=actor, data=replace(SWORD, category_id=foreign.pk))
    assert exc.value.code == "invalid_category"
    assert exc.value.message == "No such category."
    assert catalog_state(store) == before


def test_a_duplicate_slug_is_a_conflict(store, actor, sword):
    before = catalog_state(store)
    with pytest.raises(Conflict) as exc:
        product_create(store=store, actor=actor, data=replace(SWORD, name="Other",
                                                              slug="diamond-sword"))
    assert (exc.value.code, exc.value.field) == ("slug_taken", "slug")
    assert catalog_state(store) == before


def test_the_description_is_rendered_without_scripts(store, actor):
    product = product_create(store=store, actor=actor, data=replace(
        SWORD, description="**Sharp** <script>alert(1)</script> [x](javascript:alert(1))"))
    assert "<strong>Sharp</strong>" in product.description_html
    assert "<script" not in product.description_html
    assert "<a" not in product.description_html
    assert product.description.startswith("**Sharp**")  # the source is kept for editing


def test_support_cannot_create_products(store):
    support = add_member(store, Role.SUPPORT).user
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        product_create(store=store, actor=Actor.for_user(support), data=SWORD)
    assert catalog_state(store) == before


def test_owner_of_another_store_cannot_create_products_here(store):
    outsider = owner_of(make_store())
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        product_create(store=store, actor=Actor.for_user(outsider), data=SWORD)
    assert catalog_state(store) == before


# -- product_update -------------------------------------------------------------------------


def test_an_update_emits_one_event_with_only_the_changed_fields(store, actor, sword):
    product_update(store=store, actor=actor, product=sword,
                   data=replace(SWORD, price="12.99", is_featured=True))
    [event] = events(store, "product.updated")
    assert event.data["changes"] == {"price": {"old": "14.99", "new": "12.99"},
                                     "is_featured": {"old": False, "new": True}}
    assert event.data["price"] == "12.99"
    sword.refresh_from_db()
    assert sword.price == Decimal("12.99")
    assert AuditLog.objects.filter(store=store, action="product.updated").count() == 1


def test_an_update_that_changes_nothing_emits_nothing(store, actor, sword):
    before = catalog_state(store)
    product_update(store=store, actor=actor, product=sword, data=replace(SWORD, price="14.990"))
    assert catalog_state(store) == before


def test_moving_to_a_category_reports_the_category_id(store, actor, sword):
    category = category_create(store=store, actor=actor, name="Weapons")
    product_update(store=store, actor=actor, product=sword,
                   data=replace(SWORD, category_id=category.pk))
    [event] = events(store, "product.updated")
    assert event.data["changes"] == {"category_id": {"old": None, "new": category.pk}}


def test_turning_stock_on_reports_the_quantity(store, actor, sword):
    product_update(store=store, actor=actor, product=sword,
                   data=replace(SWORD, stock_enabled=True, stock_quantity=5))
    [event] = events(store, "product.updated")
    assert event.data["changes"] == {"stock_enabled": {"old": False, "new": True},
                                     "stock_quantity": {"old": None, "new": 5}}


def test_an_invalid_update_changes_nothing(store, actor, sword):
    before = catalog_state(store)
    with pytest.raises(ServiceError):
        product_update(store=store, actor=actor, product=sword,
                       data=replace(SWORD, name="Renamed", price="-5"))
    assert catalog_state(store) == before


def test_an_update_cannot_take_another_products_slug(store, actor, sword):
    other = product_create(store=store, actor=actor, data=replace(SWORD, name="Iron Sword"))
    before = catalog_state(store)
    with pytest.raises(Conflict):
        product_update(store=store, actor=actor, product=other,
                       data=replace(SWORD, name="Iron Sword", slug="diamond-sword"))
    assert catalog_state(store) == before


def test_support_cannot_update_products(store, sword):
    support = add_member(store, Role.SUPPORT).user
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        product_update(store=store, actor=Actor.for_user(support), product=sword,
                       data=replace(SWORD, price="0.01"))
    assert catalog_state(store) == before


def test_a_product_of_another_store_cannot_be_updated_through_this_store(store, actor):
    other = make_store()
    foreign = product_create(store=other, actor=Actor.for_user(owner_of(other)), data=SWORD)
    before = catalog_state(other)
    with pytest.raises(Product.DoesNotExist):
        product_update(store=store, actor=actor, product=foreign,
                       data=replace(SWORD, price="0.01"))
    assert catalog_state(other) == before
    assert events(store) == []


def test_a_deleted_product_cannot_be_updated(store, actor, sword):
    product_delete(store=store, actor=actor, product=sword)
    before = catalog_state(store)
    with pytest.raises(Product.DoesNotExist):
        product_update(store=store, actor=actor, product=sword,
                       data=replace(SWORD, price="1.00"))
    assert catalog_state(store) == before


# -- product_delete -------------------------------------------------------------------------


def test_delete_is_soft_and_emits_one_event(store, actor, sword):
    product_delete(store=store, actor=actor, product=sword)
    sword.refresh_from_db()
    assert sword.deleted_at is not None
    assert sword.is_active is False
    assert not Product.objects.alive().filter(pk=sword.pk).exists()
    [event] = events(store, "product.deleted")
    assert event.data["product_id"] == sword.pk
    assert AuditLog.objects.filter(store=store, action="product.deleted").count() == 1


def test_deleting_twice_emits_nothing_the_second_time(store, actor, sword):
    product_delete(store=store, actor=actor, product=sword)
    before = catalog_state(store)
    product_delete(store=store, actor=actor, product=sword)
    assert catalog_state(store) == before


def test_a_deleted_product_frees_its_slug(store, actor, sword):
    product_delete(store=store, actor=actor, product=sword)
    again = product_create(store=store, actor=actor, data=SWORD)
    assert again.slug == sword.slug
    assert again.pk != sword.pk
    assert Product.objects.filter(store=store, slug="diamond-sword").count() == 2


def test_support_cannot_delete_products(store, sword):
    support = add_member(store, Role.SUPPORT).user
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        product_delete(store=store, actor=Actor.for_user(support), product=sword)
    assert catalog_state(store) == before


def test_a_product_of_another_store_cannot_be_deleted_through_this_store(store, actor):
    other = make_store()
    foreign = product_create(store=other, actor=Actor.for_user(owner_of(other)), data=SWORD)
    before_here, before_there = catalog_state(store), catalog_state(other)
    product_delete(store=store, actor=actor, product=foreign)
    assert catalog_state(store) == before_here
    assert catalog_state(other) == before_there
