"""Sign-in on a store's own domain: Steam returns to that host; Discord returns to the
platform's one redirect URI and the sign-in finishes back on the store's host."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.utils import timezone

from shopkeep.themes.models import StoreDomain
from tests.signin.conftest import local

pytestmark = pytest.mark.django_db
HOST = "shop.example.com"


@pytest.fixture
def domain(store):
    return StoreDomain.objects.create(store=store, hostname=HOST, status="verified",
                                      verified_at=timezone.now(), is_primary=True)


def test_steam_on_the_store_domain_returns_there(client, store, domain, fake_steam):
    start = client.post("/login/steam/", {"next": "/checkout/"}, HTTP_HOST=HOST)
    assert start.status_code == 302
    params = dict(parse_qsl(urlsplit(start["Location"]).query))
    assert params["openid.return_to"].startswith(f"http://{HOST}/login/steam/callback/?state=")
    assert params["openid.realm"] == f"http://{HOST}/"
    back = httpx.get(start["Location"], follow_redirects=False).headers["location"]
    done = client.get(local(back), HTTP_HOST=HOST)
    assert done["Location"] == "/checkout/"
    assert client.session[f"signin_verified_{store.pk}"]["steam"]["id"] == fake_steam.steam_id


def test_discord_on_the_store_domain_finishes_there(client, store, domain, fake_discord,
                                                    settings):
    start = client.post("/login/discord/", {"next": "/checkout/"}, HTTP_HOST=HOST)
    params = dict(parse_qsl(urlsplit(start["Location"]).query))
    assert urlsplit(params["redirect_uri"]).path == "/signin/discord/callback/"
    assert urlsplit(params["redirect_uri"]).hostname != HOST  # the platform's address
    fake_discord.add_app(settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET,
                         params["redirect_uri"])
    back = httpx.get(start["Location"], follow_redirects=False).headers["location"]
    callback = client.get(local(back))  # on the platform host
    assert callback.status_code == 302
    assert callback["Location"].startswith(f"http://{HOST}/login/discord/finish/?state=")
    done = client.get(local(callback["Location"]), HTTP_HOST=HOST)
    assert done["Location"] == "/checkout/"
    assert client.session[f"customer_{store.pk}"]
