"""Sign in with Steam through python3-openid against a fake Steam OpenID 2.0 provider."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from django.test import Client

from shopkeep.customers.models import Customer
from shopkeep.events.models import Event
from shopkeep.signin.models import OpenIDNonce, SigninAttempt
from shopkeep.signin.steam import _NonceStore
from shopkeep.storefront.signin_session import VERIFIED_KEY
from tests.signin.conftest import local, steam_signin, steam_to_provider
from tests.signin.fakes import FakeSteam
from tests.storefront.shop import sign_in, url

pytestmark = pytest.mark.django_db


def _verified(client, store) -> dict:
    return client.session.get(VERIFIED_KEY.format(store.pk), {})


def test_steam_sign_in_keeps_the_steam_id_steam_vouched_for(client, store, fake_steam):
    fake_steam.personas[fake_steam.steam_id] = "Gabe"
    response = steam_signin(client, next_path=url("checkout"))
    assert response.status_code == 302
    assert response["Location"] == url("checkout")
    assert _verified(client, store) == {"steam": {"id": fake_steam.steam_id, "username": "Gabe"}}
    assert fake_steam.check_authentications == 1
    # Nobody is signed in: Steam gives no e-mail address, so no customer is created.
    assert not Customer.objects.exists()
    assert not Event.objects.filter(event_type="customer.created").exists()


def test_steam_sign_in_links_to_the_signed_in_customer(client, store, fake_steam):
    customer = Customer.objects.create(store=store, email="gabe@example.com", referral_code="R1")
    sign_in(client, store, customer)
    steam_signin(client)
    customer.refresh_from_db()
    assert customer.steam_id == fake_steam.steam_id
    assert customer.steam_linked_at is not None
    # A later sign-in in a fresh browser opens that customer.
    client.logout()
    steam_signin(client)
    assert client.session[f"customer_{store.pk}"] == customer.pk


def test_a_replayed_assertion_is_refused(client, store, fake_steam):
    back = steam_to_provider(client)
    assert client.get(local(back)).status_code == 302
    assert _verified(client, store)
    client.session.flush()
    replay = client.get(local(back))
    assert replay["Location"] == url("account_login")
    assert _verified(client, store) == {}
    # Even with a fresh attempt's state spliced in, the signed return_to no longer matches.
    start = client.post(url("signin_start", "steam"))
    state = dict(parse_qsl(urlsplit(dict(parse_qsl(urlsplit(start["Location"]).query))[
        "openid.return_to"]).query))["state"]
    query = dict(parse_qsl(urlsplit(back).query))
    query["state"] = state
    refused = client.get(urlsplit(back).path + "?" + urlencode(query))
    assert refused.status_code == 302
    assert _verified(client, store) == {}
    assert SigninAttempt.objects.get(state=state).failure == "refused"


def test_the_nonce_store_accepts_a_nonce_once():
    import time

    store = _NonceStore()
    now = int(time.time())
    assert store.useNonce("https://steamcommunity.com/openid/login", now, "abc") is True
    assert store.useNonce("https://steamcommunity.com/openid/login", now, "abc") is False
    assert store.useNonce("https://steamcommunity.com/openid/login", now - 6 * 3600, "old") is False
    assert OpenIDNonce.objects.count() == 1


def test_a_forged_claimed_id_is_refused(client, store, fake_steam):
    back = steam_to_provider(client)
    query = dict(parse_qsl(urlsplit(back).query))
    victim = fake_steam.claimed_id("76561198999999999")
    query["openid.claimed_id"] = query["openid.identity"] = victim
    response = client.get(urlsplit(back).path + "?" + urlencode(query))
    assert response.status_code == 302
    assert _verified(client, store) == {}
    assert not Customer.objects.filter(steam_id="76561198999999999").exists()


def test_an_assertion_from_another_provider_is_refused(client, store, fake_steam):
    """A provider of the attacker's own signs a Steam-looking claimed id for our return_to."""
    evil = FakeSteam().start()
    try:
        start = client.post(url("signin_start", "steam"))
        params = dict(parse_qsl(urlsplit(start["Location"]).query))
        fields = evil.assertion(return_to=params["openid.return_to"], steam_id="76561198000000666")
        fields["openid.claimed_id"] = fields["openid.identity"] = fake_steam.claimed_id(
            "76561198000000666")
        back = params["openid.return_to"] + "&" + urlencode(fields)
        client.get(local(back))
    finally:
        evil.stop()
    assert _verified(client, store) == {}


def test_an_assertion_for_another_return_to_is_refused(client, store, outsider, fake_steam):
    """Steam signed it for the other store's callback; it is replayed against ours."""
    other_back = steam_to_provider(client, slug="other")
    start = client.post(url("signin_start", "steam"))
    params = dict(parse_qsl(urlsplit(start["Location"]).query))
    ours = dict(parse_qsl(urlsplit(params["openid.return_to"]).query))
    query = dict(parse_qsl(urlsplit(other_back).query))
    query["state"] = ours["state"]
    client.get(url("signin_steam_callback") + "?" + urlencode(query))
    assert _verified(client, store) == {}
    assert SigninAttempt.objects.get(state=ours["state"]).failure == "refused"


def test_cancel_at_steam_changes_nothing(client, store, fake_steam):
    fake_steam.cancel = True
    response = steam_signin(client, next_path=url("checkout"))
    assert response["Location"] == url("checkout")
    assert _verified(client, store) == {}


def test_the_callback_in_another_browser_is_refused(client, store, fake_steam):
    back = steam_to_provider(client)
    other = Client()
    response = other.get(local(back))
    assert response["Location"] == url("account_login")
    assert other.session.get(VERIFIED_KEY.format(store.pk)) is None
    # And the attempt is used up: the starting browser cannot finish it afterwards either.
    client.get(local(back))
    assert _verified(client, store) == {}


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/x",
                                       "/\\evil.example", "/s/other/", "javascript:alert(1)"])
def test_next_never_leaves_the_store(client, store, fake_steam, next_path):
    response = steam_signin(client, next_path=next_path)
    assert response["Location"] == url("account")


def test_steam_is_not_offered_without_the_operator_key(client, store, settings):
    settings.STEAM_API_KEY = ""
    response = client.post(url("signin_start", "steam"))
    assert response.status_code == 302
    assert not SigninAttempt.objects.exists()


def test_the_start_page_changes_nothing_on_get(client, store, fake_steam):
    response = client.get(url("signin_start", "steam"))
    assert response.status_code == 200
    assert b"Continue to Steam" in response.content
    assert not SigninAttempt.objects.exists()


def test_an_unreachable_steam_says_so(client, store, fake_steam, settings):
    settings.STEAM_OPENID_URL = "http://127.0.0.1:9/openid"
    response = client.post(url("signin_start", "steam"), follow=True)
    assert b"Steam is not answering" in response.content


def test_persona_name_failure_still_signs_in(client, store, fake_steam, settings):
    settings.STEAM_API_KEY = "wrong"  # the Web API answers 403
    # Steam stays offered (a key is set); the name is simply unknown.
    steam_signin(client)
    assert _verified(client, store)["steam"] == {"id": fake_steam.steam_id, "username": ""}


def test_fake_login_refuses_a_request_outside_its_realm(fake_steam):
    response = httpx.get(f"{fake_steam.openid_url}/login", params={
        "openid.ns": "http://specs.openid.net/auth/2.0", "openid.mode": "checkid_setup",
        "openid.claimed_id": "http://specs.openid.net/auth/2.0/identifier_select",
        "openid.return_to": "https://a.example/cb", "openid.realm": "https://b.example/"})
    assert response.status_code == 400


def test_pages_with_sign_in_buttons_allow_the_providers_in_form_action(client, store,
                                                                       fake_steam):
    for name in ("account_login",):
        policy = client.get(url(name))["Content-Security-Policy"]
        assert f"form-action 'self' {fake_steam.url}" in policy
    policy = client.get(url("signin_start", "steam"))["Content-Security-Policy"]
    assert fake_steam.url in policy
