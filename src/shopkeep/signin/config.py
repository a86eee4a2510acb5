"""Which sign-ins a store offers and which Discord application it uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from shopkeep.catalog.models import Product
from shopkeep.catalog.selectors import required_signins
from shopkeep.core.absolute import absolute_url
from shopkeep.payments.sealed import SealError, unseal
from shopkeep.signin.models import SigninSettings
from shopkeep.stores.models import Store


@dataclass(frozen=True)
class DiscordApp:
    client_id: str
    client_secret: str
    source: str  # "platform" or "store"


def signin_settings(store: Store) -> SigninSettings:
    """The store's row, or the defaults (unsaved) when the owner never changed anything."""
    row = SigninSettings.objects.filter(store=store).first()
    return row if row is not None else SigninSettings(store=store)


def discord_app(store: Store, row: SigninSettings | None = None) -> DiscordApp | None:
    """The store's own Discord application when it configured one, else the platform's."""
    row = row or signin_settings(store)
    if row.discord_client_id and row.discord_client_secret:
        try:
            secret = unseal(row.discord_client_secret, context=row.seal_context())
        except SealError:
            return None  # a secret that no configured key opens: the page says so
        return DiscordApp(row.discord_client_id, secret, "store")
    if settings.DISCORD_CLIENT_ID and settings.DISCORD_CLIENT_SECRET:
        return DiscordApp(settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET, "platform")
    return None


def steam_configured() -> bool:
    # The Web API key reads the persona name; the operator enables Steam by setting it.
    return bool(settings.STEAM_API_KEY)


def providers_offered(store: Store) -> list[str]:
    """The sign-ins the storefront shows, in display order."""
    row = signin_settings(store)
    offered = []
    if row.discord_enabled and discord_app(store, row) is not None:
        offered.append("discord")
    if row.steam_enabled and steam_configured():
        offered.append("steam")
    return offered


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def signin_form_origins(store: Store) -> list[str]:
    """Where a sign-in button's POST is redirected (Discord's authorize page, Steam's login):
    browsers check that redirect against the page's CSP ``form-action``."""
    offered = providers_offered(store)
    origins = []
    if "discord" in offered:
        origins.append(_origin(settings.DISCORD_OAUTH_AUTHORIZE_URL))
    if "steam" in offered:
        origins.append(_origin(settings.STEAM_OPENID_URL))
    return origins


def checkout_required(store: Store, products: Iterable[Product]) -> frozenset[str]:
    """Sign-ins a basket needs: each product's (catalog.selectors.required_signins) and the
    store's "every purchase needs Steam" option."""
    needed: set[str] = set()
    for product in products:
        needed |= required_signins(product)
    if signin_settings(store).steam_required:
        needed.add("steam")
    return frozenset(needed)


def discord_redirect_uri(request: HttpRequest | None = None) -> str:
    """The one redirect URI registered with Discord: on the platform's address (the request's
    host only when that is the platform and no SHOPKEEP_SITE_URL is set)."""
    on_platform = request is not None and getattr(request, "host_store", None) is None
    return absolute_url(reverse("signin_discord_callback", urlconf="shopkeep.urls"),
                        request=request if on_platform else None)
