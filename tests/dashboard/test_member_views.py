"""Dashboard members pages: list and add, change a role, remove a member."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from shopkeep.stores.audit import Actor
from shopkeep.stores.models import ApiToken, AuditLog, Membership, Role
from shopkeep.stores.services import token_create
from tests.factories import add_member, make_store, make_token, make_user

pytestmark = pytest.mark.django_db

def _members_url() -> str:
    return reverse("dashboard:members", args=["shop"])


def _role_url(membership: Membership, slug: str = "shop") -> str:
    return reverse("dashboard:member_role", args=[slug, membership.pk])


def _remove_url(membership: Membership, slug: str = "shop") -> str:
    return reverse("dashboard:member_remove", args=[slug, membership.pk])


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# -- members (list and add) -----------------------------------------------------------------


def test_anonymous_members_page_redirects_to_login_and_adds_nobody(client, shop, state):
    url = _members_url()
    response = client.get(url)
    assert response["Location"] == f"{reverse('account_login')}?next={url}"
    user = make_user()
    before = state()
    response = client.post(url, {"email": user.email, "role": "admin"})
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("account_login"))
    assert state() == before


def test_owner_lists_members_of_this_store_only(as_owner, shop, shop_owner):
    support = add_member(shop, Role.SUPPORT)
    stranger = add_member(make_store(), Role.ADMIN)
    response = as_owner.get(_members_url())
    assert response.status_code == 200
    assert set(response.context["members"]) == {Membership.objects.get(user=shop_owner),
                                                support}
    assert support.user.email.encode() in response.content
    assert stranger.user.email.encode() not in response.content


def test_owner_adds_a_member(as_owner, shop):
    user = make_user("new.hire@example.com")
    response = as_owner.post(_members_url(), {"email": "New.Hire@Example.com", "role": "admin"})
    assert response["Location"] == _members_url()
    membership = Membership.objects.get(store=shop, user=user)
    assert membership.role == Role.ADMIN
    assert AuditLog.objects.filter(store=shop, action="member.added").count() == 1


def test_adding_an_address_without_an_account_shows_a_form_error(as_owner, shop, state):
    before = state()
    response = as_owner.post(_members_url(), {"email": "ghost@example.com", "role": "support"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert state() == before


def test_adding_an_existing_member_shows_a_form_error(as_owner, shop, state):
    existing = add_member(shop, Role.SUPPORT)
    before = state()
    response = as_owner.post(_members_url(), {"email": existing.user.email, "role": "admin"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert state() == before


def test_an_admin_cannot_add_an_owner_through_the_form(client, shop, state):
    client.force_login(add_member(shop, Role.ADMIN).user)
    user = make_user()
    before = state()
    response = client.post(_members_url(), {"email": user.email, "role": "owner"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert state() == before


def test_support_gets_403_on_members_and_adds_nobody(as_support, shop, state):
    assert as_support.get(_members_url()).status_code == 403
    user = make_user()
    before = state()
    assert as_support.post(_members_url(), {"email": user.email,
                                            "role": "owner"}).status_code == 403
    assert state() == before


def test_outsider_gets_404_on_members_and_adds_nobody(as_outsider, shop, state):
    assert as_outsider.get(_members_url()).status_code == 404
    user = make_user()
    before = state()
    assert as_outsider.post(_members_url(), {"email": user.email,
                                             "role": "owner"}).status_code == 404
    assert state() == before


# -- member_role ----------------------------------------------------------------------------


def test_owner_changes_a_role(as_owner, shop):
    member = add_member(shop, Role.SUPPORT)
    response = as_owner.post(_role_url(member), {"role": "admin"})
    assert response["Location"] == _members_url()
    member.refresh_from_db()
    assert member.role == Role.ADMIN
    assert AuditLog.objects.filter(store=shop, action="member.role_changed").count() == 1


def test_demoting_the_last_owner_shows_an_error_and_changes_nothing(as_owner, shop, shop_owner,
                                                                   state):
    membership = Membership.objects.get(store=shop, user=shop_owner)
    before = state()
    response = as_owner.post(_role_url(membership), {"role": "support"})
    assert response["Location"] == _members_url()
    assert any("owner" in text for text in _messages(response))
    assert state() == before


def test_an_invalid_role_shows_an_error_and_changes_nothing(as_owner, shop, state):
    member = add_member(shop, Role.SUPPORT)
    before = state()
    response = as_owner.post(_role_url(member), {"role": "god"})
    assert response.status_code == 302
    assert _messages(response) == ["Choose a valid role."]
    assert state() == before


def test_changing_a_role_needs_post(as_owner, shop, state):
    member = add_member(shop, Role.SUPPORT)
    before = state()
    assert as_owner.get(_role_url(member), {"role": "admin"}).status_code == 405
    assert state() == before


def test_anonymous_role_change_redirects_to_login(client, shop, state):
    member = add_member(shop, Role.SUPPORT)
    before = state()
    response = client.post(_role_url(member), {"role": "owner"})
    assert response["Location"].startswith(reverse("account_login"))
    assert state() == before


def test_support_gets_403_on_role_change_even_for_themselves(shop, client, state):
    support = add_member(shop, Role.SUPPORT)
    client.force_login(support.user)
    before = state()
    assert client.post(_role_url(support), {"role": "owner"}).status_code == 403
    assert state() == before


def test_outsider_gets_404_on_role_change(as_outsider, shop, shop_owner, state):
    membership = Membership.objects.get(store=shop, user=shop_owner)
    before = state()
    assert as_outsider.post(_role_url(membership), {"role": "support"}).status_code == 404
    assert state() == before


def test_a_member_of_another_store_cannot_be_changed_through_this_stores_url(as_owner, shop,
                                                                            state):
    foreign = add_member(make_store(), Role.SUPPORT)
    before = state()
    assert as_owner.post(_role_url(foreign), {"role": "admin"}).status_code == 404
    assert state() == before


# -- member_remove --------------------------------------------------------------------------


def test_owner_removes_a_member_and_their_tokens_stop(as_owner, shop):
    admin = add_member(shop, Role.ADMIN)
    token, _ = token_create(store=shop, actor=Actor.for_user(admin.user), name="theirs",
                            scopes=["store:read"])
    response = as_owner.post(_remove_url(admin))
    assert response["Location"] == _members_url()
    assert not Membership.objects.filter(pk=admin.pk).exists()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditLog.objects.filter(store=shop, action="member.removed").count() == 1


def test_an_owner_leaving_is_sent_home(as_owner, shop, shop_owner):
    add_member(shop, Role.OWNER)
    membership = Membership.objects.get(store=shop, user=shop_owner)
    response = as_owner.post(_remove_url(membership))
    assert response["Location"] == reverse("dashboard:home")
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_removing_the_last_owner_shows_an_error_and_changes_nothing(as_owner, shop, shop_owner,
                                                                   state):
    membership = Membership.objects.get(store=shop, user=shop_owner)
    make_token(shop, ["store:read"])
    before = state()
    response = as_owner.post(_remove_url(membership))
    assert response["Location"] == _members_url()
    assert any("owner" in text for text in _messages(response))
    assert state() == before


def test_removing_needs_post(as_owner, shop, state):
    member = add_member(shop, Role.SUPPORT)
    before = state()
    assert as_owner.get(_remove_url(member)).status_code == 405
    assert state() == before


def test_anonymous_remove_redirects_to_login(client, shop, state):
    member = add_member(shop, Role.SUPPORT)
    before = state()
    assert client.post(_remove_url(member))["Location"].startswith(reverse("account_login"))
    assert state() == before


def test_support_gets_403_on_remove(as_support, shop, shop_owner, state):
    membership = Membership.objects.get(store=shop, user=shop_owner)
    before = state()
    assert as_support.post(_remove_url(membership)).status_code == 403
    assert state() == before


def test_outsider_gets_404_on_remove(as_outsider, shop, shop_owner, state):
    member = add_member(shop, Role.SUPPORT)
    before = state()
    assert as_outsider.post(_remove_url(member)).status_code == 404
    assert Membership.objects.filter(pk=member.pk).exists()
    assert state() == before


def test_a_member_of_another_store_cannot_be_removed_through_this_stores_url(as_owner, shop,
                                                                            state):
    foreign = add_member(make_store(), Role.SUPPORT)
    before = state()
    assert as_owner.post(_remove_url(foreign)).status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    assert state() == before
