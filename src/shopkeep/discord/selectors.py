"""Reads for Settings > Discord, the role picker and the store API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from shopkeep.catalog.models import Product
from shopkeep.catalog.selectors import discord_role_actions
from shopkeep.core.absolute import absolute_url
from shopkeep.discord.models import DiscordSettings
from shopkeep.discord.services import REMOVE_TRIGGERS
from shopkeep.stores.models import Store


def status(*, store: Store, request: HttpRequest | None = None) -> dict[str, Any]:
    row = DiscordSettings.objects.filter(store=store).first()
    base = {"configured": False, "guild_id": "", "application_id": "", "public_key": "",
            "bot_token_hint": None, "bot_username": "", "guild_name": "",
            "interactions_url": _interactions_url(store, request),
            "command_registered": False, "checked_at": None, "check_running": False,
            "problems": [], "roles": []}
    if row is None:
        return base
    return {**base, "configured": row.configured, "guild_id": row.guild_id,
            "application_id": row.application_id, "public_key": row.public_key,
            "bot_token_hint": f"…{row.bot_token_last4}" if row.bot_token_last4 else None,
            "bot_username": row.bot_username, "guild_name": row.guild_name,
            "command_registered": row.command_registered, "checked_at": row.checked_at,
            "check_running": row.check_running, "problems": row.problems,
            "roles": row.roles}


def _interactions_url(store: Store, request: HttpRequest | None) -> str:
    return absolute_url(reverse("discord:interactions", args=[store.slug]), request=request)


def product_roles(*, product: Product) -> dict[str, Any]:
    actions = discord_role_actions(product=product)
    purchase = actions.get("purchase")
    row = DiscordSettings.objects.filter(store_id=product.store_id).first()
    role_ids = list(purchase.role_ids) if purchase else []
    known = {r["id"]: r for r in (row.roles if row else [])}
    return {"role_ids": role_ids,
            "remove_on": [t for t in REMOVE_TRIGGERS if t in actions] if purchase
            else list(REMOVE_TRIGGERS),
            "roles": [known.get(r, {"id": r, "name": r}) for r in role_ids]}
