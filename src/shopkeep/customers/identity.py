"""Game identities, validated per game before they can reach a command.

Delivery commands carry the player's name as a placeholder value; the agent refuses unsafe
values too, but nothing unsafe should get that far. Each game's rule is strict.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from shopkeep.core.errors import ServiceError

MINECRAFT_NAME = re.compile(r"^[A-Za-z0-9_]{3,16}$")
# re.ASCII: without it \d also matches other scripts' digits ("7656119" + ten Arabic-Indic
# digits would pass as a Steam64 id).
STEAM64 = re.compile(r"^7656119\d{10}$", re.ASCII)
# Other games: letters, digits and _ . - only: no spaces, quotes, semicolons, slashes or
# control characters, the usual command separators and quoting of game consoles. The first
# character is a letter, digit or _ so a name cannot read as a console flag ("--op") or a
# path ("..").
GENERIC_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{1,31}$", re.ASCII)
DISCORD_ID = re.compile(r"^\d{17,20}$", re.ASCII)

STEAM_GAMES = frozenset({"rust", "ark", "cs2", "gmod"})


def identity_label(game: str) -> str:
    if game == "minecraft":
        return "Minecraft username"
    if game in STEAM_GAMES:
        return "Steam64 ID"
    return "In-game name"


def clean_player(game: str, value: str) -> str:
    value = (value or "").strip()
    if game == "minecraft":
        if not MINECRAFT_NAME.match(value):
            raise ServiceError("invalid_player", "A Minecraft username has 3 to 16 letters, "
                               "digits or underscores.", field="player_name")
    elif game in STEAM_GAMES:
        if not STEAM64.match(value):
            raise ServiceError("invalid_player", "Enter your Steam64 ID: 17 digits starting "
                               "with 7656119.", field="player_name")
    elif not GENERIC_NAME.match(value):
        raise ServiceError("invalid_player", "Use 2 to 32 letters, digits, dots, dashes or "
                           "underscores, starting with a letter, digit or underscore.",
                           field="player_name")
    return value


def clean_minecraft_uuid(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ServiceError("invalid_uuid", "That is not a UUID.", field="minecraft_uuid") from None


def clean_steam_id(value: str) -> str:
    value = (value or "").strip()
    if value and not STEAM64.match(value):
        raise ServiceError("invalid_steam_id", "A Steam64 ID has 17 digits and starts with "
                           "7656119.", field="steam_id")
    return value


def clean_discord_id(value: str) -> str:
    value = (value or "").strip()
    if value and not DISCORD_ID.match(value):
        raise ServiceError("invalid_discord_id", "A Discord id has 17 to 20 digits.",
                           field="discord_id")
    return value


@dataclass(frozen=True)
class PlayerIdentity:
    """Who a delivery addresses, frozen on an order and its subscription at checkout.

    Every command of that order (purchase and take-back alike) reads its placeholder values
    from this snapshot, never from the customer row, which later checkouts and edits change.
    """

    game: str
    player_name: str
    uuid: str = ""
    steam_id: str = ""
    discord_id: str = ""


def identity_clean(game: str, *, player_name: str, minecraft_uuid: str = "",
                   steam_id: str = "", discord_id: str = "") -> PlayerIdentity:
    """Validate what a buyer typed, per game (raises ServiceError naming the field)."""
    name = clean_player(game, player_name)
    steam = clean_steam_id(steam_id)
    if game in STEAM_GAMES and not steam:
        steam = name  # for Steam games the identity is the Steam64
    return PlayerIdentity(game=game, player_name=name, uuid=clean_minecraft_uuid(minecraft_uuid),
                          steam_id=steam, discord_id=clean_discord_id(discord_id))
