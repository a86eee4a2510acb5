"""The "Check" button: ask Discord and name each problem in plain words.

Runs in the worker (outbound HTTP never happens in a request). It also refreshes what the
dashboard shows from Discord (the guild's roles for the role picker, the bot's name) and
registers /claim in the guild when it is missing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shopkeep.catalog.models import DeliveryAction
from shopkeep.core.absolute import absolute_url
from shopkeep.discord import errors
from shopkeep.discord.client import (
    DiscordClient,
    DiscordError,
    RateLimited,
    Unreachable,
    has_manage_roles,
)
from shopkeep.discord.models import DiscordSettings
from shopkeep.payments.sealed import SealError, unseal

CLAIM_COMMAND = {
    "name": "claim",
    "type": 1,  # CHAT_INPUT
    "description": "Get the Discord roles you bought in the store",
    "options": [
        {"type": 3, "name": "order_number", "description": "Your order number (from the "
         "receipt), if you bought without signing in with Discord", "required": False,
         "max_length": 20},
        {"type": 3, "name": "email", "description": "The e-mail address you used at checkout",
         "required": False, "max_length": 254},
    ],
    "dm_permission": False,
}


@dataclass
class Findings:
    problems: list[dict] = field(default_factory=list)
    roles: list[dict] = field(default_factory=list)
    bot_user_id: str = ""
    bot_username: str = ""
    guild_name: str = ""
    application_id: str = ""
    public_key: str = ""
    command_registered: bool = False

    def add(self, code: str, message: str) -> None:
        self.problems.append({"code": code, "message": message})


def interactions_url(store) -> str:
    return absolute_url(reverse("discord:interactions", args=[store.slug]))


def used_roles(store_id: int) -> dict[str, list[str]]:
    """Role id -> names of the products that give or take it."""
    used: dict[str, list[str]] = {}
    for action in (DeliveryAction.objects.filter(store_id=store_id,
                                                 kind=DeliveryAction.Kind.DISCORD_ROLE,
                                                 product__deleted_at__isnull=True)
                   .select_related("product")):
        for role_id in action.role_ids:
            names = used.setdefault(role_id, [])
            if action.product.name not in names:
                names.append(action.product.name)
    return used


def run_check(*, store_id: int, sleep=None) -> Findings:
    row = DiscordSettings.objects.select_related("store").get(store_id=store_id)
    found = Findings()
    if not row.configured:
        found.add("not_configured", "Add the bot token and the Discord server id first.")
        return _save(row, found)
    try:
        token = unseal(row.bot_token_sealed, context=row.seal_context())
    except SealError:
        found.add("token_unreadable", "The stored bot token cannot be opened (the encryption "
                  "keys changed): paste the token again.")
        return _save(row, found)
    client = DiscordClient(token, **({"sleep": sleep} if sleep else {}))
    try:
        _ask(client, row, found)
    except RateLimited as exc:
        found.add("rate_limited", f"Discord asked us to slow down; check again in "
                  f"{max(int(exc.retry_after), 1)} seconds.")
    except Unreachable as exc:
        found.add("unreachable", f"Discord did not answer ({exc}); check again later.")
    finally:
        client.close()
    return _save(row, found)


def _ask(client: DiscordClient, row: DiscordSettings, found: Findings) -> None:
    try:
        me = client.me()
    except DiscordError as exc:
        if exc.status == 401:
            found.add("invalid_token", "Discord refused the bot token: copy a new one from the "
                      "Developer Portal (Bot > Reset Token) and save it here.")
            return
        raise
    found.bot_user_id, found.bot_username = str(me.get("id", "")), str(me.get("username", ""))
    _application(client, row, found)
    try:
        guild = client.guild(row.guild_id)
    except DiscordError as exc:
        if exc.code in (errors.UNKNOWN_GUILD, errors.MISSING_ACCESS) or exc.status in (403, 404):
            found.add("bot_not_in_guild", f"The bot is not in the Discord server {row.guild_id} "
                      "(or the server id is wrong): invite it with the Manage Roles permission "
                      "and the applications.commands scope.")
            return
        raise
    found.guild_name = str(guild.get("name", ""))
    roles = client.roles(row.guild_id)
    member = client.member(row.guild_id, found.bot_user_id)
    _permissions(row, found, roles, member)
    _command(client, row, found)


def _application(client: DiscordClient, row: DiscordSettings, found: Findings) -> None:
    app = client.application()
    found.application_id = str(app.get("id", ""))
    found.public_key = str(app.get("verify_key", ""))
    if row.public_key and found.public_key and row.public_key != found.public_key:
        found.add("public_key_mismatch", "The public key saved here is not this bot "
                  "application's: copy it from the Developer Portal (General Information > "
                  "Public Key).")
    wanted = interactions_url(row.store)
    if (app.get("interactions_endpoint_url") or "") != wanted:
        found.add("endpoint_not_set", "Discord does not send /claim here yet: in the Developer "
                  "Portal set General Information > Interactions Endpoint URL to "
                  f"{wanted}")


def _permissions(row: DiscordSettings, found: Findings, roles: list[dict],
                 member: dict) -> None:
    by_id = {str(r["id"]): r for r in roles}
    mine = [by_id[str(r)] for r in member.get("roles", []) if str(r) in by_id]
    everyone = by_id.get(row.guild_id)
    permissions = 0
    for role in [*mine, *([everyone] if everyone else [])]:
        with contextlib.suppress(TypeError, ValueError):
            permissions |= int(role.get("permissions", "0"))
    top = max(mine, key=lambda r: r.get("position", 0), default=None)
    top_position = top.get("position", 0) if top else 0
    found.roles = [
        {"id": str(r["id"]), "name": str(r.get("name", "")), "position": r.get("position", 0),
         "managed": bool(r.get("managed")),
         "assignable": (str(r["id"]) != row.guild_id and not r.get("managed")
                        and r.get("position", 0) < top_position)}
        for r in sorted(roles, key=lambda r: -r.get("position", 0))
        if str(r["id"]) != row.guild_id]
    if not has_manage_roles(permissions):
        found.add("missing_manage_roles", "The bot is missing the Manage Roles permission: "
                  "give its role Manage Roles in Server Settings > Roles.")
    bot_role = top.get("name", "") if top else "(none)"
    for role_id, products in used_roles(row.store_id).items():
        role = by_id.get(role_id)
        used_by = ", ".join(products)
        if role is None:
            found.add("unknown_role", f"Role id {role_id} (used by {used_by}) does not exist in "
                      "this server: pick the role again in the product's Discord roles.")
        elif role.get("managed"):
            found.add("managed_role", f"Role {role.get('name')} (used by {used_by}) belongs to "
                      "an integration; Discord lets no bot assign it.")
        elif role.get("position", 0) >= top_position:
            found.add("role_above_bot", f"The bot's role {bot_role} is below role "
                      f"{role.get('name')} (used by {used_by}): drag the bot's role above it in "
                      "Server Settings > Roles.")


def _command(client: DiscordClient, row: DiscordSettings, found: Findings) -> None:
    app_id = row.application_id or found.application_id
    try:
        commands = client.guild_commands(app_id, row.guild_id)
        if not any(c.get("name") == "claim" for c in commands):
            client.create_guild_command(app_id, row.guild_id, CLAIM_COMMAND)
        found.command_registered = True
    except DiscordError as exc:
        found.add("command_not_registered", "The /claim command is not registered in the "
                  f"server ({exc.code or exc.status}: {exc.message}): re-invite the bot with "
                  "the applications.commands scope.")


@transaction.atomic
def _save(row: DiscordSettings, found: Findings) -> Findings:
    now = timezone.now()
    fields = {"problems": found.problems, "checked_at": now,
              "command_registered": found.command_registered}
    if found.bot_user_id:
        fields.update(bot_user_id=found.bot_user_id, bot_username=found.bot_username)
    if found.guild_name:
        fields.update(guild_name=found.guild_name, roles=found.roles)
    if found.application_id and not row.application_id:
        fields["application_id"] = found.application_id
    if found.public_key and not row.public_key:
        fields["public_key"] = found.public_key  # the portal's own value: nothing to mistype
    # Only the settings the check looked at: a save since then asked for a new check.
    DiscordSettings.objects.filter(pk=row.pk, bot_token_sealed=row.bot_token_sealed,
                                   guild_id=row.guild_id).update(**fields)
    return found
