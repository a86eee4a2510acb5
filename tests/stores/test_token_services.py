"""token_create, token_revoke and token_authenticate: keys shown once, stored hashed."""

from __future__ import annotations

import hashlib
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shopkeep.core.errors import PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import ApiToken, AuditLog, Role, Store
from shopkeep.stores.services import token_authenticate, token_create, token_revoke
from tests.factories import add_member, make_store, make_token, owner_of

pytestmark = pytest.mark.django_db


def _tokens_state() -> list[tuple]:
    return sorted(ApiToken.objects.values_list("pk", "revoked_at", "scopes"))


# -- token_create ---------------------------------------------------------------------------


def test_token_create_returns_a_prefixed_raw_key_and_stores_only_its_digest():
    store = make_store()
    before = AuditLog.objects.count()

    token, raw = make_token(store, ["store:read", "tokens:read"], name="CI deploy")

    assert raw.startswith("sk_")
    assert len(raw) > 40
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix)
    assert token.prefix.startswith("sk_")
    assert len(token.prefix) < len(raw) - 20
    assert token.scopes == ["store:read", "tokens:read"]
    assert token.created_by == owner_of(store)
    assert AuditLog.objects.count() == before + 1
    log = AuditLog.objects.get(action="token.created")
    assert log.details == {"name": "CI deploy", "scopes": ["store:read", "tokens:read"],
                           "prefix": token.prefix}
    assert raw not in str(log.details)


def test_the_raw_key_is_in_no_column_of_any_table():
    store = make_store()
    _, raw = make_token(store, ["store:read"])
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            for row in cursor.fetchall():
                assert not any(raw in str(value) for value in row), table


def test_two_tokens_never_share_a_key():
    store = make_store()
    raws = {make_token(store, ["store:read"])[1] for _ in range(5)}
    assert len(raws) == 5
    assert ApiToken.objects.values("key_hash").distinct().count() == 5


def test_scopes_are_deduplicated_and_sorted():
    token, _ = make_token(make_store(), ["tokens:read", "store:read", "tokens:read"])
    assert token.scopes == ["store:read", "tokens:read"]


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"scopes": ["store:read", "root:everything"]}, "invalid_scope"),
    ({"scopes": []}, "invalid_scope"),
    ({"name": "   "}, "invalid_name"),
    ({"name": "n" * 101}, "invalid_name"),
    ({"expires_at": "past"}, "invalid_expiry"),
])
def test_token_create_refuses_bad_input_and_writes_nothing(kwargs, code):
    store = make_store()
    if kwargs.get("expires_at") == "past":
        kwargs = {"expires_at": timezone.now() - timedelta(minutes=1)}
    arguments = {"name": "ok", "scopes": ["store:read"], **kwargs}
    audit_before = AuditLog.objects.count()
    with pytest.raises(ServiceError) as exc:
        token_create(store=store, actor=Actor.for_user(owner_of(store)), **arguments)
    assert exc.value.code == code
    assert ApiToken.objects.count() == 0
    assert AuditLog.objects.count() == audit_before


def test_a_naive_expiry_is_read_as_utc_instead_of_crashing():
    store = make_store()
    naive = (timezone.now() + timedelta(days=1)).replace(tzinfo=None)
    token, _ = token_create(store=store, actor=Actor.for_user(owner_of(store)), name="n",
                            scopes=["store:read"], expires_at=naive)
    token.refresh_from_db()
    assert token.expires_at == naive.replace(tzinfo=UTC)


def test_admin_may_create_tokens_but_support_may_not():
    store = make_store()
    admin = add_member(store, Role.ADMIN).user
    support = add_member(store, Role.SUPPORT).user
    token, _ = token_create(store=store, actor=Actor.for_user(admin), name="a",
                            scopes=["store:read"])
    assert token.created_by == admin
    with pytest.raises(PermissionDenied):
        token_create(store=store, actor=Actor.for_user(support), name="s",
                     scopes=["store:read"])
    assert ApiToken.objects.count() == 1


def test_an_outsider_cannot_create_a_token_for_a_store():
    store = make_store()
    outsider = owner_of(make_store())
    audit_before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied):
        token_create(store=store, actor=Actor.for_user(outsider), name="x",
                     scopes=["store:read"])
    assert not ApiToken.objects.filter(store=store).exists()
    assert AuditLog.objects.count() == audit_before


def test_a_token_mints_a_token_with_a_subset_of_its_scopes():
    store = make_store()
    parent, _ = make_token(store, ["tokens:write", "store:read", "orders:read"])
    child, raw = token_create(store=store, actor=Actor.for_token(parent), name="child",
                              scopes=["store:read"])
    assert child.scopes == ["store:read"]
    assert raw.startswith("sk_")
    log = AuditLog.objects.get(action="token.created", object_id=str(child.pk))
    assert log.actor_token == parent


def test_a_token_cannot_mint_a_token_with_wider_scopes():
    store = make_store()
    parent, _ = make_token(store, ["tokens:write", "store:read"])
    before = _tokens_state()
    audit_before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied) as exc:
        token_create(store=store, actor=Actor.for_token(parent), name="escalate",
                     scopes=["store:read", "orders:write"])
    assert "orders:write" in exc.value.message
    assert _tokens_state() == before
    assert AuditLog.objects.count() == audit_before


def test_a_token_of_another_store_cannot_act_on_this_store():
    store = make_store()
    foreign, _ = make_token(make_store(), ["tokens:write", "store:read"])
    with pytest.raises(PermissionDenied):
        token_create(store=store, actor=Actor.for_token(foreign), name="x",
                     scopes=["store:read"])
    assert not ApiToken.objects.filter(store=store).exists()


# -- token_revoke ---------------------------------------------------------------------------


def test_revoking_a_token_stops_it_and_writes_one_audit_row():
    store = make_store()
    token, raw = make_token(store, ["store:read"])
    audit_before = AuditLog.objects.count()

    token_revoke(store=store, actor=Actor.for_user(owner_of(store)), token=token)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not token.is_active
    assert token_authenticate(raw) is None
    assert AuditLog.objects.count() == audit_before + 1
    assert AuditLog.objects.filter(action="token.revoked", object_id=str(token.pk)).count() == 1


def test_revoking_twice_changes_nothing_the_second_time():
    store = make_store()
    token, _ = make_token(store, ["store:read"])
    actor = Actor.for_user(owner_of(store))
    token_revoke(store=store, actor=actor, token=token)
    token.refresh_from_db()
    first = token.revoked_at
    audit_after_first = AuditLog.objects.count()

    token_revoke(store=store, actor=actor, token=token)

    token.refresh_from_db()
    assert token.revoked_at == first
    assert AuditLog.objects.count() == audit_after_first


def test_support_cannot_revoke_a_token():
    store = make_store()
    token, raw = make_token(store, ["store:read"])
    support = add_member(store, Role.SUPPORT).user
    with pytest.raises(PermissionDenied):
        token_revoke(store=store, actor=Actor.for_user(support), token=token)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token_authenticate(raw) is not None


def test_revoking_through_the_wrong_store_leaves_the_token_active():
    store = make_store()
    other = make_store()
    token, raw = make_token(other, ["store:read"])
    audit_before = AuditLog.objects.count()
    token_revoke(store=store, actor=Actor.for_user(owner_of(store)), token=token)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token_authenticate(raw) is not None
    assert AuditLog.objects.count() == audit_before


# -- token_authenticate ---------------------------------------------------------------------


def test_a_valid_key_authenticates_to_its_token_and_store():
    store = make_store()
    token, raw = make_token(store, ["store:read"])
    found = token_authenticate(raw)
    assert found.pk == token.pk
    assert found.store == store


@pytest.mark.parametrize("raw", [
    "", "sk_", "sk_nonsense", "pk_live_abc", "Bearer sk_x", "sk_" + "a" * 300,
])
def test_garbage_keys_do_not_authenticate(raw):
    make_token(make_store(), ["store:read"])
    assert token_authenticate(raw) is None


def test_a_key_with_one_character_changed_does_not_authenticate():
    _, raw = make_token(make_store(), ["store:read"])
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert token_authenticate(tampered) is None


def test_an_expired_token_does_not_authenticate():
    store = make_store()
    token, raw = make_token(store, ["store:read"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_authenticate(raw) is None


def test_a_token_not_yet_expired_authenticates():
    store = make_store()
    token, raw = token_create(store=store, actor=Actor.for_user(owner_of(store)), name="t",
                              scopes=["store:read"],
                              expires_at=timezone.now() + timedelta(hours=1))
    assert token_authenticate(raw).pk == token.pk


def test_a_closed_stores_tokens_do_not_authenticate():
    store = make_store()
    _, raw = make_token(store, ["store:read"])
    Store.objects.filter(pk=store.pk).update(status=Store.Status.CLOSED)
    assert token_authenticate(raw) is None


def test_last_used_at_is_touched_at_most_once_a_minute(monkeypatch):
    store = make_store()
    token, raw = make_token(store, ["store:read"])
    assert token.last_used_at is None
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])

    token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == start

    clock["now"] = start + timedelta(seconds=59)
    token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == start

    clock["now"] = start + timedelta(seconds=61)
    token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


def test_a_recently_used_token_authenticates_without_writing(django_assert_num_queries):
    token, raw = make_token(make_store(), ["store:read"])
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    with django_assert_num_queries(1):
        assert token_authenticate(raw) is not None
