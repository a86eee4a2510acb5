"""category_create, category_update and category_delete."""

from __future__ import annotations

import pytest

from shopkeep.catalog.models import Category, Product
from shopkeep.catalog.services import (
    ProductInput,
    category_create,
    category_delete,
    category_update,
    product_create,
)
from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from tests.catalog.state import catalog_state, events
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db


def test_owner_creates_a_category_with_one_audit_row_and_no_event(store, actor):
    category = category_create(store=store, actor=actor, name="  Weapons  ",
                               description="Swords", sort_order=3)
    assert (category.store, category.name, category.slug, category.description,
            category.sort_order) == (store, "Weapons", "weapons", "Swords", 3)
    log = AuditLog.objects.get(store=store, action="category.created")
    assert (log.object_type, log.object_id) == ("category", str(category.pk))
    assert events(store) == []  # seed 002 has no category events


def test_admin_creates_a_category(store):
    admin = add_member(store, Role.ADMIN).user
    category = category_create(store=store, actor=Actor.for_user(admin), name="Ranks")
    assert Category.objects.filter(pk=category.pk, store=store).exists()


def test_a_given_slug_is_kept(store, actor):
    assert category_create(store=store, actor=actor, name="Ranks", slug="vip-ranks").slug \
        == "vip-ranks"


@pytest.mark.parametrize(("name", "slug", "code"), [
    ("", "", "invalid_name"),
    ("   ", "", "invalid_name"),
    ("Bad\nName", "", "invalid_name"),
    ("x" * 101, "", "invalid_name"),
    ("Ranks", "Not A Slug", "invalid_slug"),
    ("Ranks", "double--dash", "invalid_slug"),
    ("Ranks", "-lead", "invalid_slug"),
    ("Ranks", "../etc", "invalid_slug"),
    ("日本", "", "invalid_slug"),  # nothing left to slugify
])
def test_category_create_refuses_bad_names_and_slugs(store, actor, name, slug, code):
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        category_create(store=store, actor=actor, name=name, slug=slug)
    assert exc.value.code == code
    assert catalog_state(store) == before


def test_a_duplicate_category_slug_is_a_conflict(store, actor):
    category_create(store=store, actor=actor, name="Ranks")
    before = catalog_state(store)
    with pytest.raises(Conflict) as exc:
        category_create(store=store, actor=actor, name="Ranks")
    assert (exc.value.code, exc.value.field) == ("slug_taken", "slug")
    assert catalog_state(store) == before


def test_another_store_may_use_the_same_category_slug(store, actor):
    other = make_store()
    category_create(store=other, actor=Actor.for_user(owner_of(other)), name="Ranks")
    assert category_create(store=store, actor=actor, name="Ranks").slug == "ranks"


def test_support_cannot_create_categories(store):
    support = add_member(store, Role.SUPPORT).user
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        category_create(store=store, actor=Actor.for_user(support), name="Ranks")
    assert catalog_state(store) == before


def test_owner_of_another_store_cannot_create_categories_here(store):
    outsider = owner_of(make_store())
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        category_create(store=store, actor=Actor.for_user(outsider), name="Ranks")
    assert catalog_state(store) == before


def test_owner_updates_a_category_with_one_audit_row(store, actor):
    category = category_create(store=store, actor=actor, name="Ranks")
    audit_before = AuditLog.objects.filter(store=store).count()
    category_update(store=store, actor=actor, category=category, name="VIP Ranks", slug="",
                    description="Better", sort_order=2)
    category.refresh_from_db()
    assert (category.name, category.slug, category.description, category.sort_order) == (
        "VIP Ranks", "vip-ranks", "Better", 2)
    assert AuditLog.objects.filter(store=store).count() == audit_before + 1
    assert events(store) == []


def test_category_update_refuses_a_slug_another_category_uses(store, actor):
    category_create(store=store, actor=actor, name="Ranks")
    kits = category_create(store=store, actor=actor, name="Kits")
    before = catalog_state(store)
    with pytest.raises(Conflict):
        category_update(store=store, actor=actor, category=kits, name="Kits", slug="ranks")
    assert catalog_state(store) == before


def test_support_cannot_update_categories(store, actor):
    category = category_create(store=store, actor=actor, name="Ranks")
    support = add_member(store, Role.SUPPORT).user
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        category_update(store=store, actor=Actor.for_user(support), category=category,
                        name="Hacked", slug="hacked")
    assert catalog_state(store) == before


def test_a_category_of_another_store_cannot_be_updated_through_this_store(store, actor):
    other = make_store()
    foreign = category_create(store=other, actor=Actor.for_user(owner_of(other)), name="Ranks")
    before = catalog_state(other)
    with pytest.raises(Category.DoesNotExist):
        category_update(store=store, actor=actor, category=foreign, name="Mine", slug="mine")
    assert catalog_state(other) == before


def test_deleting_a_category_keeps_its_products_uncategorised(store, actor):
    category = category_create(store=store, actor=actor, name="Ranks")
    product = product_create(store=store, actor=actor,
                             data=ProductInput(name="VIP", price="5", category_id=category.pk))
    events_before = len(events(store))
    category_delete(store=store, actor=actor, category=category)
    assert not Category.objects.filter(pk=category.pk).exists()
    product.refresh_from_db()
    assert product.category_id is None
    assert Product.objects.alive().filter(pk=product.pk).exists()
    assert AuditLog.objects.filter(store=store, action="category.deleted").count() == 1
    assert len(events(store)) == events_before


def test_support_cannot_delete_categories(store, actor):
    category = category_create(store=store, actor=actor, name="Ranks")
    support = add_member(store, Role.SUPPORT).user
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        category_delete(store=store, actor=Actor.for_user(support), category=category)
    assert catalog_state(store) == before


def test_a_category_of_another_store_cannot_be_deleted_through_this_store(store, actor):
    other = make_store()
    foreign = category_create(store=other, actor=Actor.for_user(owner_of(other)), name="Ranks")
    before_here, before_there = catalog_state(store), catalog_state(other)
    with pytest.raises(Category.DoesNotExist):
        category_delete(store=store, actor=actor, category=foreign)
    assert catalog_state(store) == before_here  # no audit row claiming a deletion
    assert catalog_state(other) == before_there
