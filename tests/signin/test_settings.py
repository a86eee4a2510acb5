"""Settings > Sign-in: the dashboard page and the store API; another store sees nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.payments.sealed import unseal
from shopkeep.signin.config import discord_app, providers_offered
from shopkeep.signin.models import SigninSettings
from shopkeep.stores.models import AuditLog, Role
from tests.factories import add_member, make_token, owner_of

pytestmark = pytest.mark.django_db

OWN_ID = "999988887777666655"


def auth(store, scopes=("store:read", "store:write")):
    _, raw = make_token(store, list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _owner_client(store) -> Client:
    client = Client()
    client.force_login(owner_of(store))
    return client


def _page(store) -> str:
    return reverse("dashboard:signin_settings", args=[store.slug])


def test_the_page_says_what_is_available(store, fake_discord, fake_steam):
    response = _owner_client(store).get(_page(store))
    assert response.status_code == 200
    body = response.content.decode()
    assert "the platform&#x27;s application" in body or "the platform's application" in body
    assert "/signin/discord/callback/" in body
    assert providers_offered(store) == ["discord", "steam"]


def test_saving_the_stores_own_application_seals_the_secret(store, fake_discord):
    response = _owner_client(store).post(_page(store), {
        "discord_enabled": "on", "steam_enabled": "on", "discord_client_id": OWN_ID,
        "discord_client_secret": "store-own-secret"})
    assert response.status_code == 302
    row = SigninSettings.objects.get(store=store)
    assert "store-own-secret" not in row.discord_client_secret
    assert unseal(row.discord_client_secret, context=row.seal_context()) == "store-own-secret"
    assert discord_app(store).source == "store"
    page = _owner_client(store).get(_page(store)).content.decode()
    assert "store-own-secret" not in page
    assert AuditLog.objects.filter(store=store, action="signin.settings_updated").exists()
    # Saving again without the secret keeps the application.
    _owner_client(store).post(_page(store), {"discord_enabled": "on", "discord_client_id": OWN_ID})
    assert discord_app(store).client_secret == "store-own-secret"
    assert providers_offered(store) == ["discord"]  # Steam switched off (no box ticked)
    _owner_client(store).post(_page(store), {"use_platform_app": "1"})
    assert discord_app(store).source == "platform"


def test_a_bad_application_id_is_refused_with_a_message(store, fake_discord):
    response = _owner_client(store).post(_page(store), {
        "discord_enabled": "on", "discord_client_id": "12ab",
        "discord_client_secret": "store-own-secret"})
    assert response.status_code == 400
    assert "17 to 20 digits" in response.content.decode()
    assert not SigninSettings.objects.filter(store=store).exists()


def test_a_support_member_cannot_change_sign_in(store):
    member = add_member(store, Role.SUPPORT)
    client = Client()
    client.force_login(member.user)
    response = client.post(_page(store), {"steam_required": "on"})
    assert response.status_code in (403, 404)
    assert not SigninSettings.objects.filter(store=store).exists()


def test_another_stores_owner_gets_404(store, outsider):
    response = _owner_client(outsider).post(_page(store), {"steam_required": "on"})
    assert response.status_code == 404
    assert not SigninSettings.objects.filter(store=store).exists()


def test_the_api_reads_and_writes_the_settings(client, store, fake_discord, fake_steam):
    body = client.get("/api/v1/signin-settings", **auth(store)).json()
    assert body["discord_available"] and body["steam_available"]
    assert body["discord_application"] == "platform"
    response = client.put("/api/v1/signin-settings", {
        "steam_required": True, "discord_client_id": OWN_ID,
        "discord_client_secret": "store-own-secret"}, content_type="application/json",
        **auth(store))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["steam_required"] and body["discord_application"] == "store"
    assert "store-own-secret" not in response.content.decode()


def test_the_api_refuses_an_id_without_its_secret(client, store):
    response = client.put("/api/v1/signin-settings", {"discord_client_id": OWN_ID},
                          content_type="application/json", **auth(store))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_client_secret"
    assert not SigninSettings.objects.filter(store=store).exists()


def test_an_outsider_token_changes_only_its_own_store(client, store, outsider):
    response = client.put("/api/v1/signin-settings", {"steam_required": True},
                          content_type="application/json", **auth(outsider))
    assert response.status_code == 200
    assert not SigninSettings.objects.filter(store=store).exists()
    assert SigninSettings.objects.get(store=outsider).steam_required


def test_a_read_token_cannot_write(client, store):
    response = client.put("/api/v1/signin-settings", {"steam_required": True},
                          content_type="application/json", **auth(store, ["store:read"]))
    assert response.status_code == 403
    assert not SigninSettings.objects.filter(store=store).exists()


def test_the_hourly_prune_forgets_old_attempts_and_nonces(store):
    import time
    from datetime import timedelta

    from django.utils import timezone

    from shopkeep.signin.models import OpenIDNonce, SigninAttempt
    from shopkeep.signin.services import attempt_start
    from shopkeep.signin.tasks import signin_prune

    old = attempt_start(store=store, provider="steam", binding="x" * 40, next_path="",
                        finish_url="https://x.test/")
    SigninAttempt.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(days=2))
    fresh = attempt_start(store=store, provider="steam", binding="x" * 40, next_path="",
                          finish_url="https://x.test/")
    OpenIDNonce.objects.create(server_url="s", timestamp=int(time.time()) - 86400, salt="a")
    OpenIDNonce.objects.create(server_url="s", timestamp=int(time.time()), salt="b")
    assert signin_prune.call() == 2
    assert list(SigninAttempt.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(OpenIDNonce.objects.values_list("salt", flat=True)) == ["b"]
