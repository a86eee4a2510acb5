"""Sign in with Discord through authlib against a fake Discord OAuth 2.0 server."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.test import Client

from shopkeep.customers.models import Customer
from shopkeep.events.models import Event
from shopkeep.signin.models import SigninAttempt
from shopkeep.storefront.signin_session import VERIFIED_KEY
from tests.signin.conftest import (
    CALLBACK,
    discord_signin,
    discord_to_callback,
    local,
)
from tests.storefront.shop import sign_in, url

pytestmark = pytest.mark.django_db


def _verified(client, store) -> dict:
    return client.session.get(VERIFIED_KEY.format(store.pk), {})


def test_discord_sign_in_creates_the_customer_from_the_verified_email(client, store,
                                                                       fake_discord):
    response = discord_signin(client, next_path=url("checkout"))
    assert response["Location"] == url("checkout")
    customer = Customer.objects.get(store=store)
    assert (customer.email, customer.discord_id, customer.discord_username) == (
        "nelly@example.com", "80351110224678912", "nelly")
    assert customer.discord_linked_at is not None
    assert client.session[f"customer_{store.pk}"] == customer.pk
    event = Event.objects.get(event_type="customer.created")
    assert event.data["discord_id"] == "80351110224678912"
    assert event.data["discord_username"] == "nelly"
    assert event.data["steam_id"] is None and event.data["email"] == "nelly@example.com"
    # The PKCE verifier and the code went to the token endpoint, the secret with them.
    token_form = fake_discord.token_requests[0]
    assert token_form["code_verifier"] and token_form["client_secret"]


def test_a_second_sign_in_opens_the_same_customer_and_fires_nothing(client, store,
                                                                     fake_discord):
    discord_signin(client)
    second = Client()
    discord_signin(second)
    assert Customer.objects.filter(store=store).count() == 1
    assert Event.objects.filter(event_type="customer.created").count() == 1
    assert second.session[f"customer_{store.pk}"] == Customer.objects.get().pk


def test_an_unverified_discord_email_creates_no_customer(client, store, fake_discord):
    fake_discord.user["verified"] = False
    discord_signin(client)
    assert not Customer.objects.exists()
    assert _verified(client, store)["discord"]["id"] == "80351110224678912"


def test_a_verified_email_of_an_existing_customer_links_it(client, store, fake_discord):
    existing = Customer.objects.create(store=store, email="nelly@example.com",
                                       referral_code="R1", player_name="Nelly_MC")
    discord_signin(client)
    existing.refresh_from_db()
    assert existing.discord_id == "80351110224678912" and existing.discord_linked_at
    assert existing.player_name == "Nelly_MC"
    assert not Event.objects.filter(event_type="customer.created").exists()


def test_the_signed_in_customer_gets_the_account_linked(client, store, fake_discord):
    me = Customer.objects.create(store=store, email="me@example.com", referral_code="R2")
    sign_in(client, store, me)
    discord_signin(client)
    me.refresh_from_db()
    assert me.discord_id == "80351110224678912"
    assert not Customer.objects.filter(email="nelly@example.com").exists()


def test_a_wrong_state_is_refused_before_any_token_request(client, store, fake_discord):
    callback = discord_to_callback(client)
    query = dict(parse_qsl(urlsplit(callback).query))
    query["state"] = "forged"
    response = client.get(CALLBACK, query)
    assert response.status_code == 400
    assert fake_discord.token_requests == []
    assert _verified(client, store) == {}


def test_a_finish_link_opened_in_another_browser_signs_nobody_in(client, store, fake_discord):
    """Login CSRF: the attacker starts, the victim's browser is sent the provider's answer.
    The finish needs the starting browser's binding, so the victim's browser gets nothing;
    and the attempt is then used up, so the attacker cannot finish it either."""
    callback = client.get(local(discord_to_callback(client)))
    finish = callback["Location"]
    victim = Client()
    assert victim.get(local(finish))["Location"] == url("account_login")
    assert victim.session.get(f"customer_{store.pk}") is None
    assert client.get(local(finish))["Location"] == url("account_login")
    assert _verified(client, store) == {}
    assert not Customer.objects.exists()


def test_the_starting_browser_cannot_finish_without_the_ticket(client, store, fake_discord):
    callback = client.get(local(discord_to_callback(client)))
    query = dict(parse_qsl(urlsplit(callback["Location"]).query))
    query["ticket"] = "guessed"
    response = client.get(url("signin_finish", "discord"), query)
    assert response["Location"] == url("account_login")
    assert not Customer.objects.exists()


def test_a_code_is_used_once(client, store, fake_discord):
    back = discord_to_callback(client)
    first = client.get(local(back))
    assert first.status_code == 302
    replay = client.get(local(back))
    assert replay.status_code == 400  # the attempt is no longer open
    assert len(fake_discord.token_requests) == 1


def test_denied_at_discord_changes_nothing(client, store, fake_discord):
    fake_discord.deny = True
    response = discord_signin(client, next_path=url("checkout"))
    assert response["Location"] == url("checkout")
    assert not Customer.objects.exists()
    assert SigninAttempt.objects.get().failure == "access_denied"


def test_a_refused_token_exchange_signs_nobody_in(client, store, fake_discord, settings):
    settings.DISCORD_CLIENT_SECRET = "not-the-secret"
    response = discord_signin(client)
    assert response["Location"] == url("account")
    assert not Customer.objects.exists()
    assert _verified(client, store) == {}


def test_a_store_can_use_its_own_discord_application(client, store, fake_discord):
    from shopkeep.signin.services import signin_settings_update
    from shopkeep.stores.audit import Actor
    from tests.factories import owner_of

    signin_settings_update(store=store, actor=Actor.for_user(owner_of(store)),
                           discord_enabled=True, steam_enabled=True, steam_required=False,
                           discord_client_id="999988887777666655",
                           discord_client_secret="store-own-secret")
    fake_discord.add_app("999988887777666655", "store-own-secret",
                         f"http://testserver{CALLBACK}")
    start = client.post(url("signin_start", "discord"))
    assert dict(parse_qsl(urlsplit(start["Location"]).query))["client_id"] == (
        "999988887777666655")
    at_discord = httpx.get(start["Location"], follow_redirects=False)
    callback = client.get(local(at_discord.headers["location"]))
    client.get(local(callback["Location"]))
    assert fake_discord.token_requests[0]["client_id"] == "999988887777666655"
    assert Customer.objects.get().discord_id == "80351110224678912"


def test_the_authorize_request_carries_state_pkce_and_scopes(client, store, fake_discord):
    start = client.post(url("signin_start", "discord"))
    params = dict(parse_qsl(urlsplit(start["Location"]).query))
    attempt = SigninAttempt.objects.get()
    assert params["state"] == attempt.state
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["code_challenge"] != attempt.code_verifier
    assert params["scope"] == "identify email"
    assert params["redirect_uri"] == f"http://testserver{CALLBACK}"


def test_discord_is_not_offered_without_an_application(client, store, settings):
    settings.DISCORD_CLIENT_ID = settings.DISCORD_CLIENT_SECRET = ""
    response = client.post(url("signin_start", "discord"))
    assert response.status_code == 302
    assert not SigninAttempt.objects.exists()


def test_a_sign_in_for_one_store_does_not_finish_in_another(client, store, outsider,
                                                            fake_discord):
    callback = client.get(local(discord_to_callback(client)))
    query = dict(parse_qsl(urlsplit(callback["Location"]).query))
    response = client.get(url("signin_finish", "discord", slug="other"), query)
    assert response["Location"] == url("account_login", slug="other")
    assert client.session.get(f"customer_{outsider.pk}") is None
    assert not Customer.objects.exists()
