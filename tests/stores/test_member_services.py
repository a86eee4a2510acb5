"""member_add, member_change_role and member_remove: the role matrix and the owner rules."""

from __future__ import annotations

import pytest

from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import ApiToken, AuditLog, Membership, Role
from shopkeep.stores.services import member_add, member_change_role, member_remove, token_create
from tests.factories import add_member, make_store, make_token, make_user, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def owner(store):
    return owner_of(store)


def _state(store) -> tuple:
    """Everything a member write could change in ``store``."""
    return (sorted(Membership.objects.filter(store=store).values_list("user_id", "role")),
            sorted(ApiToken.objects.filter(store=store).values_list("pk", "revoked_at")),
            AuditLog.objects.filter(store=store).count())


# -- member_add -----------------------------------------------------------------------------


def test_owner_adds_a_member_with_one_audit_row(store, owner):
    user = make_user("Newbie@Example.com")
    before = AuditLog.objects.count()

    membership = member_add(store=store, actor=Actor.for_user(owner),
                            email="  NEWBIE@example.COM ", role=Role.SUPPORT)

    assert (membership.store, membership.user, membership.role) == (store, user, Role.SUPPORT)
    assert AuditLog.objects.count() == before + 1
    log = AuditLog.objects.get(action="member.added")
    assert log.actor_user == owner
    assert log.details == {"email": "newbie@example.com", "role": "support"}
    assert (log.object_type, log.object_id) == ("membership", str(membership.pk))


def test_owner_may_add_another_owner(store, owner):
    user = make_user()
    member_add(store=store, actor=Actor.for_user(owner), email=user.email, role=Role.OWNER)
    assert Membership.objects.get(store=store, user=user).role == Role.OWNER


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT])
def test_admin_adds_admins_and_support(store, role):
    admin = add_member(store, Role.ADMIN).user
    user = make_user()
    member_add(store=store, actor=Actor.for_user(admin), email=user.email, role=role)
    assert Membership.objects.get(store=store, user=user).role == role


def test_admin_cannot_add_an_owner(store):
    admin = add_member(store, Role.ADMIN).user
    user = make_user()
    before = _state(store)
    with pytest.raises(PermissionDenied):
        member_add(store=store, actor=Actor.for_user(admin), email=user.email, role=Role.OWNER)
    assert _state(store) == before


def test_support_cannot_add_members(store):
    support = add_member(store, Role.SUPPORT).user
    user = make_user()
    before = _state(store)
    with pytest.raises(PermissionDenied):
        member_add(store=store, actor=Actor.for_user(support), email=user.email,
                   role=Role.SUPPORT)
    assert _state(store) == before


def test_owner_of_another_store_cannot_add_members(store):
    outsider = owner_of(make_store())
    before = _state(store)
    with pytest.raises(PermissionDenied):
        member_add(store=store, actor=Actor.for_user(outsider), email=outsider.email,
                   role=Role.OWNER)
    assert _state(store) == before


@pytest.mark.parametrize("email", ["nobody@example.com", ""])
def test_member_add_refuses_an_address_without_an_account(store, owner, email):
    before = _state(store)
    with pytest.raises(ServiceError) as exc:
        member_add(store=store, actor=Actor.for_user(owner), email=email, role=Role.SUPPORT)
    assert (exc.value.code, exc.value.field) == ("unknown_user", "email")
    assert _state(store) == before


def test_member_add_refuses_an_unknown_role(store, owner):
    user = make_user()
    before = _state(store)
    with pytest.raises(ServiceError) as exc:
        member_add(store=store, actor=Actor.for_user(owner), email=user.email, role="superuser")
    assert exc.value.code == "invalid_role"
    assert _state(store) == before


def test_inactive_users_cannot_be_added(store, owner):
    user = make_user()
    user.is_active = False
    user.save()
    with pytest.raises(ServiceError) as exc:
        member_add(store=store, actor=Actor.for_user(owner), email=user.email, role=Role.ADMIN)
    assert exc.value.code == "unknown_user"


def test_adding_an_existing_member_is_a_conflict(store, owner):
    existing = add_member(store, Role.SUPPORT)
    before = _state(store)
    with pytest.raises(Conflict) as exc:
        member_add(store=store, actor=Actor.for_user(owner), email=existing.user.email,
                   role=Role.ADMIN)
    assert exc.value.code == "already_member"
    assert _state(store) == before


# -- member_change_role ---------------------------------------------------------------------


def test_owner_changes_a_role_with_one_audit_row(store, owner):
    membership = add_member(store, Role.SUPPORT)
    before = AuditLog.objects.count()
    member_change_role(store=store, actor=Actor.for_user(owner), membership=membership,
                       role=Role.ADMIN)
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    assert AuditLog.objects.count() == before + 1
    log = AuditLog.objects.get(action="member.role_changed")
    assert log.details == {"email": membership.user.email, "old": "support", "new": "admin"}


def test_changing_to_the_same_role_writes_nothing(store, owner):
    membership = add_member(store, Role.ADMIN)
    before = _state(store)
    member_change_role(store=store, actor=Actor.for_user(owner), membership=membership,
                       role=Role.ADMIN)
    assert _state(store) == before


def test_the_last_owner_cannot_be_demoted(store, owner):
    membership = Membership.objects.get(store=store, user=owner)
    before = _state(store)
    with pytest.raises(Conflict) as exc:
        member_change_role(store=store, actor=Actor.for_user(owner), membership=membership,
                           role=Role.ADMIN)
    assert exc.value.code == "last_owner"
    assert _state(store) == before


def test_an_owner_can_step_down_when_another_owner_remains(store, owner):
    add_member(store, Role.OWNER)
    membership = Membership.objects.get(store=store, user=owner)
    member_change_role(store=store, actor=Actor.for_user(owner), membership=membership,
                       role=Role.ADMIN)
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


@pytest.mark.parametrize(("old", "new"), [
    (Role.OWNER, Role.SUPPORT),  # demote an owner
    (Role.SUPPORT, Role.OWNER),  # promote to owner
])
def test_admin_cannot_change_owner_roles(store, old, new):
    admin = add_member(store, Role.ADMIN).user
    target = add_member(store, old)
    before = _state(store)
    with pytest.raises(PermissionDenied):
        member_change_role(store=store, actor=Actor.for_user(admin), membership=target,
                           role=new)
    assert _state(store) == before


def test_admin_changes_support_to_admin(store):
    admin = add_member(store, Role.ADMIN).user
    target = add_member(store, Role.SUPPORT)
    member_change_role(store=store, actor=Actor.for_user(admin), membership=target,
                       role=Role.ADMIN)
    target.refresh_from_db()
    assert target.role == Role.ADMIN


def test_support_cannot_change_roles(store):
    support = add_member(store, Role.SUPPORT)
    before = _state(store)
    with pytest.raises(PermissionDenied):
        member_change_role(store=store, actor=Actor.for_user(support.user), membership=support,
                           role=Role.ADMIN)
    assert _state(store) == before


def test_unknown_role_is_refused(store, owner):
    membership = add_member(store, Role.SUPPORT)
    with pytest.raises(ServiceError) as exc:
        member_change_role(store=store, actor=Actor.for_user(owner), membership=membership,
                           role="god")
    assert exc.value.code == "invalid_role"
    membership.refresh_from_db()
    assert membership.role == Role.SUPPORT


def test_a_membership_of_another_store_cannot_be_changed_through_this_store(store, owner):
    foreign = add_member(make_store(), Role.SUPPORT)
    with pytest.raises(Membership.DoesNotExist):
        member_change_role(store=store, actor=Actor.for_user(owner), membership=foreign,
                           role=Role.ADMIN)
    foreign.refresh_from_db()
    assert foreign.role == Role.SUPPORT


# -- member_remove --------------------------------------------------------------------------


def test_owner_removes_a_member_with_one_audit_row(store, owner):
    membership = add_member(store, Role.ADMIN)
    before = AuditLog.objects.count()
    member_remove(store=store, actor=Actor.for_user(owner), membership=membership)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditLog.objects.count() == before + 1
    log = AuditLog.objects.get(action="member.removed")
    assert log.details == {"email": membership.user.email, "role": "admin",
                           "tokens_revoked": 0}


def test_removing_a_member_revokes_only_their_active_tokens_in_this_store(store, owner):
    admin = add_member(store, Role.ADMIN)
    theirs, _ = token_create(store=store, actor=Actor.for_user(admin.user), name="theirs",
                             scopes=["store:read"])
    already_revoked, _ = token_create(store=store, actor=Actor.for_user(admin.user),
                                      name="old", scopes=["store:read"])
    ApiToken.objects.filter(pk=already_revoked.pk).update(revoked_at="2020-01-01T00:00:00Z")
    owners_token, _ = make_token(store, ["store:read"])
    other_store = make_store()
    add_member(other_store, Role.ADMIN, user=admin.user)
    elsewhere, _ = token_create(store=other_store, actor=Actor.for_user(admin.user),
                                name="elsewhere", scopes=["store:read"])

    member_remove(store=store, actor=Actor.for_user(owner), membership=admin)

    theirs.refresh_from_db()
    owners_token.refresh_from_db()
    elsewhere.refresh_from_db()
    already_revoked.refresh_from_db()
    assert theirs.revoked_at is not None
    assert owners_token.revoked_at is None
    assert elsewhere.revoked_at is None
    assert already_revoked.revoked_at.year == 2020
    assert AuditLog.objects.get(action="member.removed").details["tokens_revoked"] == 1


def test_the_last_owner_cannot_be_removed(store, owner):
    membership = Membership.objects.get(store=store, user=owner)
    make_token(store, ["store:read"])
    before = _state(store)
    with pytest.raises(Conflict) as exc:
        member_remove(store=store, actor=Actor.for_user(owner), membership=membership)
    assert exc.value.code == "last_owner"
    assert _state(store) == before


def test_an_owner_can_leave_when_another_owner_remains(store, owner):
    add_member(store, Role.OWNER)
    membership = Membership.objects.get(store=store, user=owner)
    member_remove(store=store, actor=Actor.for_user(owner), membership=membership)
    assert not Membership.objects.filter(store=store, user=owner).exists()


def test_admin_cannot_remove_an_owner(store, owner):
    add_member(store, Role.OWNER)
    admin = add_member(store, Role.ADMIN).user
    membership = Membership.objects.get(store=store, user=owner)
    before = _state(store)
    with pytest.raises(PermissionDenied):
        member_remove(store=store, actor=Actor.for_user(admin), membership=membership)
    assert _state(store) == before


def test_admin_removes_support(store):
    admin = add_member(store, Role.ADMIN).user
    support = add_member(store, Role.SUPPORT)
    member_remove(store=store, actor=Actor.for_user(admin), membership=support)
    assert not Membership.objects.filter(pk=support.pk).exists()


def test_support_cannot_remove_anyone_not_even_themselves(store):
    support = add_member(store, Role.SUPPORT)
    other = add_member(store, Role.SUPPORT)
    before = _state(store)
    for target in (support, other):
        with pytest.raises(PermissionDenied):
            member_remove(store=store, actor=Actor.for_user(support.user), membership=target)
    assert _state(store) == before


def test_a_membership_of_another_store_cannot_be_removed_through_this_store(store, owner):
    foreign = add_member(make_store(), Role.SUPPORT)
    with pytest.raises(Membership.DoesNotExist):
        member_remove(store=store, actor=Actor.for_user(owner), membership=foreign)
    assert Membership.objects.filter(pk=foreign.pk).exists()
