"""Store API: the store's Discord bot (Settings > Discord) and each product's Discord roles.

The bot token goes in once and never comes back out: responses show its last four
characters. Saving settings queues a check; its findings appear in ``problems`` when the
worker has asked Discord (``check_running`` is true until then).
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from shopkeep.catalog.models import Product
from shopkeep.core.tenancy import get_for_store
from shopkeep.discord import selectors, services
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["discord"])


class ProblemOut(Schema):
    code: str = Field(..., examples=["role_above_bot"])
    message: str


class RoleOut(Schema):
    id: str
    name: str
    position: int = 0
    managed: bool = False
    assignable: bool = Field(False, description="The bot can give it: below the bot's highest "
                             "role and not managed by an integration")


class DiscordOut(Schema):
    configured: bool
    guild_id: str
    application_id: str
    public_key: str
    bot_token_hint: str | None = Field(None, examples=["…x9Qk"])
    bot_username: str
    guild_name: str
    interactions_url: str = Field(..., description="Paste into the Developer Portal: General "
                                  "Information > Interactions Endpoint URL")
    command_registered: bool
    checked_at: datetime | None
    check_running: bool
    problems: list[ProblemOut]
    roles: list[RoleOut] = Field(..., description="The guild's roles at the last check, "
                                 "highest first")


class DiscordIn(Schema):
    guild_id: str = Field(..., max_length=25, description="The Discord server id")
    public_key: str = Field("", max_length=80, description="Application public key (hex); "
                            "learned by the check when empty")
    bot_token: str = Field("", max_length=200, description="Empty keeps the stored token")
    application_id: str = Field("", max_length=25)


class RolesIO(Schema):
    role_ids: list[str] = Field(..., max_length=20, description="Role ids, not names")
    remove_on: list[str] = Field(list(services.REMOVE_TRIGGERS), max_length=3,
                                 description="refund, chargeback, subscription_cancel")


class RolesOut(RolesIO):
    roles: list[RoleOut]


@router.get("/discord", response=DiscordOut, auth=scope("store:read"),
            summary="The Discord bot's settings and the last check's findings")
def discord_detail(request: HttpRequest):
    return selectors.status(store=request.store, request=request)


@router.put("/discord", response={202: DiscordOut}, auth=scope("store:write"),
            summary="Save the bot token, server and public key; a check is queued")
def discord_save(request: HttpRequest, payload: DiscordIn):
    services.discord_settings_update(store=request.store, actor=Actor.for_token(request.api_token),
                                     guild_id=payload.guild_id, public_key=payload.public_key,
                                     bot_token=payload.bot_token,
                                     application_id=payload.application_id)
    return Status(202, selectors.status(store=request.store, request=request))


@router.post("/discord/check", response={202: DiscordOut}, auth=scope("store:write"),
             summary="Ask Discord again (bot in the server, Manage Roles, role order, /claim)")
def discord_check(request: HttpRequest):
    services.discord_check_request(store=request.store, actor=Actor.for_token(request.api_token))
    return Status(202, selectors.status(store=request.store, request=request))


@router.delete("/discord", response={204: None}, auth=scope("store:write"),
               summary="Forget the bot (its token is deleted)")
def discord_delete(request: HttpRequest):
    services.discord_disconnect(store=request.store, actor=Actor.for_token(request.api_token))
    return Status(204, None)


@router.get("/products/{product_id}/discord-roles", response=RolesOut,
            auth=scope("products:read"), summary="The Discord roles a product gives")
def product_roles(request: HttpRequest, product_id: int):
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    return selectors.product_roles(product=product)


@router.put("/products/{product_id}/discord-roles", response=RolesOut,
            auth=scope("products:write"),
            summary="Set the roles added on purchase and when they are removed")
def product_roles_set(request: HttpRequest, product_id: int, payload: RolesIO):
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    services.product_discord_roles_set(
        store=request.store, actor=Actor.for_token(request.api_token), product=product,
        data=services.RolesInput(role_ids=payload.role_ids, remove_on=payload.remove_on))
    return selectors.product_roles(product=product)
