"""Store API: Settings > Sign-in (which sign-ins the storefront offers, the store's own
Discord application). The client secret goes in and never comes back out."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from shopkeep.signin.config import (
    discord_app,
    discord_redirect_uri,
    signin_settings,
    steam_configured,
)
from shopkeep.signin.services import signin_settings_update
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store

router = Router(tags=["sign-in"])


class SigninSettingsOut(Schema):
    discord_enabled: bool
    steam_enabled: bool
    steam_required: bool = Field(description="Every purchase needs a Steam sign-in")
    discord_available: bool = Field(description="Sign in with Discord is offered now")
    discord_application: str | None = Field(
        description="Whose Discord application signs buyers in", examples=["platform"])
    discord_client_id: str = Field(description="The store's own application id ('' when "
                                   "the platform's is used)")
    discord_redirect_uri: str = Field(description="Register it in the Developer Portal "
                                      "(OAuth2 > Redirects) for your own application")
    steam_available: bool = Field(description="Sign in with Steam is offered now")


class SigninSettingsIn(Schema):
    discord_enabled: bool = True
    steam_enabled: bool = True
    steam_required: bool = False
    discord_client_id: str | None = Field(None, max_length=20, description="Your Discord "
                                          "application id; null keeps the saved one")
    discord_client_secret: str | None = Field(None, max_length=200, description="Its client "
                                              "secret; null keeps the saved one")
    use_platform_discord_app: bool = Field(False, description="Forget your own application")


def _out(request: HttpRequest, store: Store) -> dict:
    row = signin_settings(store)
    app = discord_app(store, row)
    return {"discord_enabled": row.discord_enabled, "steam_enabled": row.steam_enabled,
            "steam_required": row.steam_required,
            "discord_available": row.discord_enabled and app is not None,
            "discord_application": app.source if app else None,
            "discord_client_id": row.discord_client_id,
            "discord_redirect_uri": discord_redirect_uri(request),
            "steam_available": row.steam_enabled and steam_configured()}


@router.get("/signin-settings", response=SigninSettingsOut, auth=scope("store:read"),
            summary="Which customer sign-ins the storefront offers")
def signin_settings_detail(request: HttpRequest):
    return _out(request, request.store)


@router.put("/signin-settings", response=SigninSettingsOut, auth=scope("store:write"),
            summary="Change the sign-ins offered, or set the store's own Discord application")
def signin_settings_save(request: HttpRequest, payload: SigninSettingsIn):
    store = request.store
    row = signin_settings(store)
    client_id = (payload.discord_client_id or "").strip()
    change_app = payload.discord_client_secret is not None or (
        payload.discord_client_id is not None and client_id != row.discord_client_id)
    signin_settings_update(
        store=store, actor=Actor.for_token(request.api_token),
        discord_enabled=payload.discord_enabled, steam_enabled=payload.steam_enabled,
        steam_required=payload.steam_required,
        discord_client_id=client_id if change_app else None,
        discord_client_secret=(payload.discord_client_secret or "") if change_app else None,
        clear_discord_app=payload.use_platform_discord_app)
    return _out(request, store)
