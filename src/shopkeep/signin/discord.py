"""Sign in with Discord: OAuth 2.0 authorization code with PKCE, through authlib over httpx.

Discord's endpoints (https://discord.com/developers/docs/topics/oauth2): the browser goes to
``/oauth2/authorize``; the code is exchanged at ``POST /api/v10/oauth2/token``; the account is
``GET /api/v10/users/@me`` with the bearer token (``id``, ``username``, ``global_name``,
``email`` and ``verified`` with the ``email`` scope). Tests point both at a local fake.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from django.conf import settings

with warnings.catch_warnings():
    # authlib 1.9 announces a move to the httpx2 fork; it still drives httpx 0.28, which the
    # project pins (pyproject.toml), through the same client.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client

from shopkeep.customers.identity import DISCORD_ID
from shopkeep.signin.config import DiscordApp

SCOPE = "identify email"


class DiscordSigninError(Exception):
    """Discord refused the code or answered something that is not an account."""


@dataclass(frozen=True)
class DiscordAccount:
    id: str
    username: str
    email: str
    email_verified: bool


def new_code_verifier() -> str:
    return generate_token(64)


def _client(app: DiscordApp, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(client_id=app.client_id, client_secret=app.client_secret,
                        scope=SCOPE, redirect_uri=redirect_uri, code_challenge_method="S256",
                        token_endpoint_auth_method="client_secret_post",
                        timeout=settings.SIGNIN_TIMEOUT_SECONDS)


def authorize_url(app: DiscordApp, *, state: str, code_verifier: str, redirect_uri: str) -> str:
    with _client(app, redirect_uri) as client:
        url, _ = client.create_authorization_url(settings.DISCORD_OAUTH_AUTHORIZE_URL,
                                                 state=state, code_verifier=code_verifier)
    return url


def account_from_code(app: DiscordApp, *, code: str, code_verifier: str,
                      redirect_uri: str) -> DiscordAccount:
    """Exchange the code (with the PKCE verifier) and read the account it grants."""
    base = settings.DISCORD_OAUTH_API_BASE
    try:
        with _client(app, redirect_uri) as client:
            client.fetch_token(f"{base}/oauth2/token", grant_type="authorization_code",
                               code=code, code_verifier=code_verifier)
            response = client.get(f"{base}/users/@me")
    except (OAuthError, httpx.HTTPError, ValueError) as exc:
        raise DiscordSigninError(f"token exchange failed: {exc}") from None
    if response.status_code != 200:
        raise DiscordSigninError(f"users/@me answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise DiscordSigninError("users/@me is not JSON") from None
    uid = data.get("id") if isinstance(data, dict) else None
    if not isinstance(uid, str) or not DISCORD_ID.match(uid):
        raise DiscordSigninError("users/@me has no account id")
    username = data.get("username")
    email = data.get("email")
    return DiscordAccount(id=uid, username=username if isinstance(username, str) else "",
                          email=email if isinstance(email, str) else "",
                          email_verified=data.get("verified") is True)
