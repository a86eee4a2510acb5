"""Dashboard API token pages: create (key shown once), list, revoke."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shopkeep.stores.models import ApiToken, AuditLog
from shopkeep.stores.services import token_authenticate
from tests.factories import make_store, make_token

pytestmark = pytest.mark.django_db


def _tokens_url(slug: str = "shop") -> str:
    return reverse("dashboard:tokens", args=[slug])


def _revoke_url(token: ApiToken, slug: str = "shop") -> str:
    return reverse("dashboard:token_revoke", args=[slug, token.pk])


# -- tokens (list and create) ---------------------------------------------------------------


def test_anonymous_tokens_page_redirects_to_login_and_creates_nothing(client, shop, state):
    url = _tokens_url()
    assert client.get(url)["Location"] == f"{reverse('account_login')}?next={url}"
    before = state()
    response = client.post(url, {"name": "ci", "scopes": ["store:read"]})
    assert response["Location"].startswith(reverse("account_login"))
    assert state() == before


def test_owner_creates_a_token_and_sees_the_raw_key_exactly_once(as_owner, shop):
    response = as_owner.post(_tokens_url(), {"name": "CI deploy",
                                             "scopes": ["store:read", "tokens:read"]})
    assert response["Location"] == _tokens_url()
    token = ApiToken.objects.get(store=shop)
    assert (token.name, token.scopes) == ("CI deploy", ["store:read", "tokens:read"])
    assert AuditLog.objects.filter(store=shop, action="token.created").count() == 1

    shown = as_owner.get(_tokens_url())
    created = shown.context["created"]
    assert created["token"] == token
    raw = created["raw"]
    assert raw.startswith(token.prefix)
    assert token_authenticate(raw).pk == token.pk
    assert raw.encode() in shown.content

    reloaded = as_owner.get(_tokens_url())
    assert reloaded.context["created"] is None
    assert raw.encode() not in reloaded.content
    assert token.prefix.encode() in reloaded.content
    assert ApiToken.objects.filter(store=shop).count() == 1


def test_a_token_with_an_expiry_date_is_created(as_owner, shop):
    response = as_owner.post(_tokens_url(), {"name": "temp", "scopes": ["store:read"],
                                             "expires_at": "2999-01-01T00:00"})
    assert response.status_code == 302
    assert ApiToken.objects.get(store=shop).expires_at.year == 2999


@pytest.mark.parametrize("data", [
    {"name": "", "scopes": ["store:read"]},
    {"name": "x", "scopes": []},
    {"name": "x", "scopes": ["root:all"]},
    {"name": "x", "scopes": ["store:read"], "expires_at": "2000-01-01T00:00"},
    {"name": "x", "scopes": ["store:read"], "expires_at": "someday"},
], ids=["no-name", "no-scopes", "unknown-scope", "past-expiry", "bad-date"])
def test_a_bad_token_form_shows_an_error_and_creates_nothing(as_owner, shop, state, data):
    before = state()
    response = as_owner.post(_tokens_url(), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["created"] is None
    assert state() == before


def test_the_list_shows_this_stores_tokens_only(as_owner, shop):
    mine, _ = make_token(shop, ["store:read"], name="mine")
    make_token(make_store(), ["store:read"], name="not-mine")
    response = as_owner.get(_tokens_url())
    assert list(response.context["tokens"]) == [mine]
    assert b"not-mine" not in response.content


def test_a_key_left_in_the_session_for_another_store_is_not_shown_here(client, shop,
                                                                      shop_owner):
    # The one-shot key is keyed by token id; a token of another store must not render here.
    other = make_store(shop_owner, slug="second")
    client.force_login(shop_owner)
    client.post(_tokens_url("second"), {"name": "other-store", "scopes": ["store:read"]})
    response = client.get(_tokens_url())
    assert response.context["created"] is None
    assert ApiToken.objects.filter(store=other).count() == 1


def test_support_gets_403_on_tokens_and_creates_nothing(as_support, shop, state):
    assert as_support.get(_tokens_url()).status_code == 403
    before = state()
    assert as_support.post(_tokens_url(), {"name": "x",
                                           "scopes": ["store:read"]}).status_code == 403
    assert state() == before


def test_outsider_gets_404_on_tokens_and_creates_nothing(as_outsider, shop, state):
    make_token(shop, ["store:read"], name="secret-name")
    response = as_outsider.get(_tokens_url())
    assert response.status_code == 404
    assert b"secret-name" not in response.content
    before = state()
    assert as_outsider.post(_tokens_url(), {"name": "x",
                                            "scopes": ["store:read"]}).status_code == 404
    assert state() == before


# -- token_revoke ---------------------------------------------------------------------------


def test_owner_revokes_a_token(as_owner, shop):
    token, raw = make_token(shop, ["store:read"])
    response = as_owner.post(_revoke_url(token))
    assert response["Location"] == _tokens_url()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token_authenticate(raw) is None
    assert AuditLog.objects.filter(store=shop, action="token.revoked").count() == 1


def test_revoking_twice_writes_one_audit_row(as_owner, shop):
    token, _ = make_token(shop, ["store:read"])
    as_owner.post(_revoke_url(token))
    token.refresh_from_db()
    first = token.revoked_at
    assert as_owner.post(_revoke_url(token)).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at == first
    assert AuditLog.objects.filter(action="token.revoked").count() == 1


def test_revoking_needs_post(as_owner, shop, state):
    token, _ = make_token(shop, ["store:read"])
    before = state()
    assert as_owner.get(_revoke_url(token)).status_code == 405
    assert state() == before


def test_anonymous_revoke_redirects_to_login(client, shop, state):
    token, _ = make_token(shop, ["store:read"])
    before = state()
    assert client.post(_revoke_url(token))["Location"].startswith(reverse("account_login"))
    assert state() == before


def test_support_gets_403_on_revoke_and_the_token_keeps_working(as_support, shop, state):
    token, raw = make_token(shop, ["store:read"])
    before = state()
    assert as_support.post(_revoke_url(token)).status_code == 403
    assert state() == before
    assert token_authenticate(raw) is not None


def test_outsider_gets_404_on_revoke_and_the_token_keeps_working(as_outsider, shop, state):
    token, raw = make_token(shop, ["store:read"])
    before = state()
    assert as_outsider.post(_revoke_url(token)).status_code == 404
    assert state() == before
    assert token_authenticate(raw) is not None


def test_a_token_of_another_store_cannot_be_revoked_through_this_stores_url(as_owner, shop,
                                                                           state):
    foreign, raw = make_token(make_store(), ["store:read"])
    before = state()
    assert as_owner.post(_revoke_url(foreign)).status_code == 404
    assert state() == before
    assert token_authenticate(raw) is not None
