from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from tests.commerce import make_shop
from tests.signin.fakes import FakeDiscord, FakeSteam
from tests.storefront.shop import SLUG, url

DISCORD_CLIENT_ID = "111122223333444455"
DISCORD_SECRET = "platform-discord-secret"
CALLBACK = "/signin/discord/callback/"


@pytest.fixture
def store():
    return make_shop(slug=SLUG, name="Block Party")


@pytest.fixture
def outsider():
    return make_shop(slug="other", name="Other Place")


@pytest.fixture
def fake_steam(settings):
    fake = FakeSteam().start()
    settings.STEAM_OPENID_URL = fake.openid_url
    settings.STEAM_API_BASE = fake.url
    settings.STEAM_API_KEY = fake.api_key
    yield fake
    fake.stop()


@pytest.fixture
def fake_discord(settings):
    fake = FakeDiscord().start()
    settings.DISCORD_OAUTH_AUTHORIZE_URL = fake.authorize_url
    settings.DISCORD_OAUTH_API_BASE = fake.api_base
    settings.DISCORD_CLIENT_ID = DISCORD_CLIENT_ID
    settings.DISCORD_CLIENT_SECRET = DISCORD_SECRET
    fake.add_app(DISCORD_CLIENT_ID, DISCORD_SECRET, f"http://testserver{CALLBACK}")
    yield fake
    fake.stop()


def local(location: str) -> str:
    """A redirect back to us as a path the test client can follow."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def steam_to_provider(client, *, slug: str = SLUG, next_path: str = "") -> str:
    """POST the Steam button; returns the URL Steam sends the browser back to."""
    response = client.post(url("signin_start", "steam", slug=slug), {"next": next_path})
    assert response.status_code == 302, response
    at_steam = httpx.get(response["Location"], follow_redirects=False)
    assert at_steam.status_code == 302, at_steam.text
    return at_steam.headers["location"]


def steam_signin(client, *, slug: str = SLUG, next_path: str = ""):
    return client.get(local(steam_to_provider(client, slug=slug, next_path=next_path)))


def discord_to_callback(client, *, slug: str = SLUG, next_path: str = "") -> str:
    response = client.post(url("signin_start", "discord", slug=slug), {"next": next_path})
    assert response.status_code == 302, response
    at_discord = httpx.get(response["Location"], follow_redirects=False)
    assert at_discord.status_code == 302, at_discord.text
    return at_discord.headers["location"]


def discord_signin(client, *, slug: str = SLUG, next_path: str = ""):
    callback = client.get(local(discord_to_callback(client, slug=slug, next_path=next_path)))
    assert callback.status_code == 302, callback
    return client.get(local(callback["Location"]))
