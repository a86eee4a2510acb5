"""store_create, store_update_settings and store_set_plan_and_status."""

from __future__ import annotations

import pytest

from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import ApiToken, AuditLog, Membership, Role, Store
from shopkeep.stores.services import (
    store_create,
    store_set_plan_and_status,
    store_update_settings,
)
from tests.factories import add_member, make_store, make_token, make_user, owner_of

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return Store.objects.count(), Membership.objects.count(), AuditLog.objects.count()


# -- store_create ---------------------------------------------------------------------------


def test_store_create_makes_the_creator_the_only_owner_and_writes_one_audit_row():
    user = make_user()
    store = store_create(owner=user, name="  Blocky   Realms ", slug="Blocky-Realms",
                         currency="eur", time_zone="Europe/Berlin")

    store.refresh_from_db()
    assert (store.name, store.slug, store.currency, store.time_zone) == (
        "Blocky Realms", "blocky-realms", "EUR", "Europe/Berlin")
    assert store.plan == Store.Plan.FREE
    assert store.status == Store.Status.ACTIVE
    assert store.public_id.startswith("store_")
    assert list(Membership.objects.filter(store=store).values_list("user", "role")) == [
        (user.pk, Role.OWNER)]
    log = AuditLog.objects.get()
    assert (log.store, log.actor_user, log.action) == (store, user, "store.created")
    assert (log.object_type, log.object_id) == ("store", str(store.pk))
    assert log.details == {"name": "Blocky Realms", "slug": "blocky-realms"}


@pytest.mark.parametrize("slug", [
    "", "ab", "-leading", "trailing-", "under_score", "spa ce", "dots.no", "ümlaut",
    "x" * 51,
])
def test_store_create_refuses_a_malformed_slug_and_writes_nothing(slug):
    user = make_user()
    with pytest.raises(ServiceError) as exc:
        store_create(owner=user, name="Shop", slug=slug)
    assert exc.value.code == "invalid_slug"
    assert exc.value.field == "slug"
    assert _counts() == (0, 0, 0)


@pytest.mark.parametrize("slug", ["admin", "api", "dashboard", "staff", "accounts", "new"])
def test_store_create_refuses_a_reserved_slug_and_writes_nothing(slug):
    with pytest.raises(ServiceError) as exc:
        store_create(owner=make_user(), name="Shop", slug=slug)
    assert exc.value.code == "invalid_slug"
    assert "reserved" in exc.value.message
    assert _counts() == (0, 0, 0)


def test_store_create_answers_conflict_for_a_taken_slug_and_writes_nothing_more():
    make_store(slug="taken-slug")
    before = _counts()
    with pytest.raises(Conflict) as exc:
        store_create(owner=make_user(), name="Other", slug="TAKEN-slug")
    assert exc.value.code == "slug_taken"
    assert exc.value.status == 409
    assert _counts() == before


@pytest.mark.parametrize(("field", "kwargs", "code"), [
    ("currency", {"currency": "XYZ"}, "invalid_currency"),
    ("currency", {"currency": ""}, "invalid_currency"),
    ("time_zone", {"time_zone": "../../etc/passwd"}, "invalid_time_zone"),
    ("time_zone", {"time_zone": ""}, "invalid_time_zone"),
    ("time_zone", {"time_zone": "Mars/Olympus"}, "invalid_time_zone"),
    ("name", {"name": "   "}, "invalid_name"),
    ("name", {"name": "n" * 101}, "invalid_name"),
])
def test_store_create_refuses_bad_settings_and_writes_nothing(field, kwargs, code):
    arguments = {"owner": make_user(), "name": "Shop", "slug": "good-slug", **kwargs}
    with pytest.raises(ServiceError) as exc:
        store_create(**arguments)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert _counts() == (0, 0, 0)


# -- store_update_settings ------------------------------------------------------------------


def test_owner_updates_settings_with_one_audit_row_listing_the_changes():
    store = make_store(currency="USD")
    owner = owner_of(store)
    AuditLog.objects.all().delete()

    updated = store_update_settings(store=store, actor=Actor.for_user(owner), name="New name",
                                    currency="GBP", time_zone="America/New_York",
                                    test_mode=False, game="minecraft")

    store.refresh_from_db()
    assert updated.pk == store.pk
    assert (store.name, store.currency, store.time_zone, store.test_mode) == (
        "New name", "GBP", "America/New_York", False)
    log = AuditLog.objects.get()
    assert log.action == "store.updated"
    assert log.actor_user == owner
    assert log.details["changes"] == {
        "name": {"old": "Test Store", "new": "New name"},
        "currency": {"old": "USD", "new": "GBP"},
        "time_zone": {"old": "UTC", "new": "America/New_York"},
        "test_mode": {"old": True, "new": False},
    }


def test_saving_unchanged_settings_writes_no_audit_row():
    store = make_store()
    before = AuditLog.objects.count()
    store_update_settings(store=store, actor=Actor.for_user(owner_of(store)), name=store.name,
                          currency=store.currency, time_zone=store.time_zone,
                          test_mode=store.test_mode, game="minecraft")
    assert AuditLog.objects.count() == before


def test_admin_may_update_settings():
    store = make_store()
    admin = add_member(store, Role.ADMIN).user
    store_update_settings(store=store, actor=Actor.for_user(admin), name="By admin",
                          currency="USD", time_zone="UTC", test_mode=True, game="minecraft")
    store.refresh_from_db()
    assert store.name == "By admin"


@pytest.mark.parametrize("who", ["support", "outsider"])
def test_support_and_outsiders_cannot_update_settings(who):
    store = make_store()
    user = add_member(store, Role.SUPPORT).user if who == "support" else owner_of(make_store())
    before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied):
        store_update_settings(store=store, actor=Actor.for_user(user), name="Hijacked",
                              currency="EUR", time_zone="UTC", test_mode=False, game="minecraft")
    store.refresh_from_db()
    assert (store.name, store.currency, store.test_mode) == ("Test Store", "USD", True)
    assert AuditLog.objects.count() == before


@pytest.mark.parametrize("kwargs", [
    {"currency": "BTC"}, {"time_zone": "Nowhere/Land"}, {"name": ""}, {"game": "tetris"},
])
def test_invalid_settings_change_nothing(kwargs):
    store = make_store()
    before = AuditLog.objects.count()
    arguments = {"name": "Changed", "currency": "EUR", "time_zone": "UTC", "test_mode": False,
                 "game": "rust", **kwargs}
    with pytest.raises(ServiceError):
        store_update_settings(store=store, actor=Actor.for_user(owner_of(store)), **arguments)
    store.refresh_from_db()
    assert (store.name, store.currency, store.test_mode) == ("Test Store", "USD", True)
    assert AuditLog.objects.count() == before


def test_a_token_actor_may_update_settings_because_the_api_checked_its_scope():
    store = make_store()
    token, _ = make_token(store, ["store:write"])
    store_update_settings(store=store, actor=Actor.for_token(token), name="Via API",
                          currency="USD", time_zone="UTC", test_mode=True, game="minecraft")
    log = AuditLog.objects.filter(action="store.updated").get()
    assert log.actor_token == token
    assert log.actor_label == f"token {token.prefix}"


# -- store_set_plan_and_status --------------------------------------------------------------


def test_staff_change_plan_and_status_with_one_audit_row():
    store = make_store()
    staff = make_user(is_staff=True)
    store_set_plan_and_status(store=store, actor=Actor.for_user(staff), plan="pro",
                              status="suspended")
    store.refresh_from_db()
    assert (store.plan, store.status) == ("pro", "suspended")
    log = AuditLog.objects.get(action="store.plan_changed")
    assert log.actor_user == staff
    assert log.details == {"changes": {"plan": {"old": "free", "new": "pro"},
                                       "status": {"old": "active", "new": "suspended"}}}


def test_setting_the_same_plan_and_status_writes_no_audit_row():
    store = make_store()
    before = AuditLog.objects.count()
    store_set_plan_and_status(store=store, actor=Actor.system(), plan="free", status="active")
    assert AuditLog.objects.count() == before


def test_the_system_actor_may_change_the_plan():
    store = make_store()
    store_set_plan_and_status(store=store, actor=Actor.system("cli"), plan="growth",
                              status="active")
    store.refresh_from_db()
    assert store.plan == "growth"
    assert AuditLog.objects.get(action="store.plan_changed").actor_label == "cli"


def test_an_owner_cannot_change_their_own_plan():
    store = make_store()
    before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied):
        store_set_plan_and_status(store=store, actor=Actor.for_user(owner_of(store)),
                                  plan="pro", status="active")
    store.refresh_from_db()
    assert store.plan == "free"
    assert AuditLog.objects.count() == before


def test_a_token_cannot_change_the_plan_even_if_a_staff_user_created_it():
    store = make_store()
    token, _ = make_token(store, ["store:write"])
    token.created_by = make_user(is_staff=True)
    with pytest.raises(PermissionDenied):
        store_set_plan_and_status(store=store, actor=Actor.for_token(token), plan="pro",
                                  status="active")
    store.refresh_from_db()
    assert store.plan == "free"
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize(("plan", "status", "code"), [
    ("platinum", "active", "invalid_plan"), ("pro", "deleted", "invalid_status"),
])
def test_unknown_plan_or_status_is_refused(plan, status, code):
    store = make_store()
    with pytest.raises(ServiceError) as exc:
        store_set_plan_and_status(store=store, actor=Actor.system(), plan=plan, status=status)
    assert exc.value.code == code
    store.refresh_from_db()
    assert (store.plan, store.status) == ("free", "active")
