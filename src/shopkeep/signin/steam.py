"""Sign in with Steam: OpenID 2.0 through python3-openid, in stateless mode.

Steam is an OpenID 2.0 provider (https://steamcommunity.com/dev): the browser goes to its
``/openid/login`` with ``openid.mode=checkid_setup`` and comes back to our ``return_to`` with a
signed ``id_res``. We keep no association, so every assertion is checked by Steam itself with
``openid.mode=check_authentication``; its response nonce is recorded so it is accepted once.
The library also checks ``return_to`` and re-discovers the claimed id, so an assertion made by
another provider, for another site, or with an altered ``claimed_id`` is refused. The persona
name comes from the Steam Web API (``ISteamUser/GetPlayerSummaries/v0002``).
"""

from __future__ import annotations

import re
import time
import urllib.request

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from openid import fetchers
from openid.consumer import discover
from openid.consumer.consumer import SUCCESS, GenericConsumer
from openid.message import Message
from openid.store.interface import OpenIDStore
from openid.store.nonce import SKEW

from shopkeep.signin.models import OpenIDNonce


class SteamSigninError(Exception):
    """Steam did not vouch for this answer (cancelled, forged, replayed or for elsewhere)."""


class _TimeoutFetcher(fetchers.Urllib2Fetcher):
    """The library's own fetcher with a timeout: a hanging Steam must not hold the request."""

    @staticmethod
    def urlopen(req):  # type: ignore[override]
        # The library refused every scheme but http(s) before calling this (_allowedURL).
        return urllib.request.urlopen(req, timeout=settings.SIGNIN_TIMEOUT_SECONDS)  # noqa: S310


fetchers.setDefaultFetcher(_TimeoutFetcher())


class _NonceStore(OpenIDStore):
    """Nonces in the database (a unique row each); no associations are ever kept."""

    # camelCase: the library's interface.
    def storeAssociation(self, server_url, association):
        return None

    def getAssociation(self, server_url, handle=None):
        return None

    def removeAssociation(self, server_url, handle):
        return False

    def useNonce(self, server_url, timestamp, salt):
        if abs(timestamp - time.time()) > SKEW:
            return False
        try:
            with transaction.atomic():
                OpenIDNonce.objects.create(server_url=server_url[:255], timestamp=timestamp,
                                           salt=salt[:64])
        except IntegrityError:
            return False
        return True

    def cleanupNonces(self):
        return OpenIDNonce.objects.filter(timestamp__lt=int(time.time()) - SKEW).delete()[0]


def nonces_prune() -> int:
    return _NonceStore().cleanupNonces()


class _StatelessConsumer(GenericConsumer):
    def _getAssociation(self, endpoint):
        # No shared secret with Steam: each assertion goes back to Steam for checking.
        return None


def _claimed_id_pattern() -> re.Pattern[str]:
    return re.compile(re.escape(settings.STEAM_OPENID_URL) + r"/id/(7656119\d{10})", re.ASCII)


def redirect_url(*, return_to: str, realm: str) -> str:
    """Where to send the browser: Steam's login page for this return_to."""
    try:
        _, services = discover.discover(settings.STEAM_OPENID_URL)
    except (discover.DiscoveryFailure, fetchers.HTTPFetchingError) as exc:
        raise SteamSigninError(f"Steam discovery failed: {exc}") from None
    if not services:
        raise SteamSigninError("Steam announced no OpenID endpoint")
    request = _StatelessConsumer(_NonceStore()).begin(services[0])
    return request.redirectURL(realm, return_to)


def steam_id_from_response(*, query: dict[str, str], return_to: str) -> str:
    """The Steam64 id Steam vouched for in this callback, or SteamSigninError."""
    message = Message.fromPostArgs(query)
    try:
        response = _StatelessConsumer(_NonceStore()).complete(message, None, return_to)
    except fetchers.HTTPFetchingError as exc:
        raise SteamSigninError(f"Steam did not answer: {exc}") from None
    if response.status != SUCCESS:
        raise SteamSigninError(f"{response.status}: {getattr(response, 'message', '')}")
    match = _claimed_id_pattern().fullmatch(response.identity_url or "")
    if match is None or response.endpoint.server_url != settings.STEAM_OPENID_URL + "/login":
        raise SteamSigninError(f"not a Steam identity: {response.identity_url!r}")
    return match.group(1)


def persona_name(steam_id: str) -> str:
    """The player's Steam name, or "" when the Web API does not answer (sign-in goes on)."""
    try:
        response = httpx.get(f"{settings.STEAM_API_BASE}/ISteamUser/GetPlayerSummaries/v0002/",
                             params={"key": settings.STEAM_API_KEY, "steamids": steam_id},
                             timeout=settings.SIGNIN_TIMEOUT_SECONDS)
        players = response.json().get("response", {}).get("players", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return ""
    for player in players if isinstance(players, list) else []:
        if isinstance(player, dict) and player.get("steamid") == steam_id:
            name = player.get("personaname")
            return name if isinstance(name, str) else ""
    return ""
