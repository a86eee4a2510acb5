"""Command templates and their placeholders (seed 001: the agent substitutes them).

The platform only checks templates: placeholders are sent as values beside the template and
never spliced in here, so a player name can never become part of a command on our side.
"""

from __future__ import annotations

import re

from shopkeep.core.errors import ServiceError
from shopkeep.core.text import has_control_chars

# name -> what it becomes. No customer e-mail: commands end up in game-server logs.
PLACEHOLDERS: dict[str, str] = {
    "player": "the player's in-game name",
    "uuid": "the player's Minecraft UUID (empty if unknown)",
    "steam_id": "the player's Steam64 id (empty if unknown)",
    "discord_id": "the customer's Discord id (empty if unknown)",
    "quantity": "how many the customer bought",
    "order_number": "the order number, ORD-...",
    "order_id": "the order's numeric id",
    "product_name": "the product's name",
    "product_id": "the product's numeric id",
    "price": "the unit price, e.g. 9.99",
    "currency": "the order currency, e.g. USD",
    "transaction_id": "the payment gateway's payment id",
}

_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
MAX_COMMANDS = 20
MAX_COMMAND_LENGTH = 500


def placeholders_in(template: str) -> set[str]:
    return set(_PLACEHOLDER_RE.findall(template))


def clean_commands(commands: list[str]) -> list[str]:
    """Strip, drop blanks, refuse control characters and unknown placeholders."""
    cleaned = []
    for raw in commands:
        command = (raw or "").strip()
        if not command:
            continue
        if has_control_chars(command):
            raise ServiceError("invalid_command", "A command cannot contain line breaks or "
                               "control characters; put each command on its own line.",
                               field="commands")
        if len(command) > MAX_COMMAND_LENGTH:
            raise ServiceError("invalid_command", f"A command can have at most "
                               f"{MAX_COMMAND_LENGTH} characters.", field="commands")
        unknown = sorted(placeholders_in(command) - set(PLACEHOLDERS))
        if unknown:
            raise ServiceError("invalid_command", "Unknown placeholder(s): "
                               + ", ".join("{" + name + "}" for name in unknown)
                               + ". See the list of placeholders.", field="commands")
        cleaned.append(command)
    if len(cleaned) > MAX_COMMANDS:
        raise ServiceError("invalid_command", f"At most {MAX_COMMANDS} commands per action.",
                           field="commands")
    return cleaned


_BRACED_RE = re.compile(r"\{([^{}\s]{1,40})\}")


def command_warnings(commands: list[str]) -> list[str]:
    """What probably is a mistake but is still saved as typed: a leading slash (consoles
    and RCON take commands without it) and braces that are not a placeholder, like
    ``{Player}`` (placeholders are lower-case), which would reach the game literally."""
    warnings = []
    known = {name.lower(): name for name in PLACEHOLDERS}
    for number, raw in enumerate(commands, start=1):
        command = (raw or "").strip()
        if not command:
            continue
        if command.startswith("/"):
            warnings.append(f"Line {number} starts with “/”: game consoles take commands "
                            "without the leading slash, and it is sent as typed.")
        for name in dict.fromkeys(_BRACED_RE.findall(command)):
            if name in PLACEHOLDERS:
                continue
            hint = known.get(name.lower())
            warnings.append(f"Line {number}: {{{name}}} is not a placeholder and reaches the "
                            "game as typed" + (f"; did you mean {{{hint}}}?" if hint else
                                               ". See the list of placeholders below."))
    return warnings
