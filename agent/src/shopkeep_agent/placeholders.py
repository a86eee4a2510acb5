"""Placeholder substitution that refuses values able to become a second game command.

The platform sends the owner's template (``give {player} diamond {quantity}``) and the values
separately and never splices them itself; this is the one place they meet. A value is
refused when it holds a control character (newline, carriage return, NUL, ESC, ...), a
Unicode line or paragraph separator, or one of the adapter's command separators (``;`` on
Source engines): any of those could end the owner's command and start one the player wrote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# Only `{name}` with an identifier inside is a placeholder: Minecraft JSON text such as
# `tellraw @a {"text":"hi"}` passes through untouched.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp"}


class UnsafePlaceholder(Exception):
    """A value that would be substituted is unsafe; the message names it, never echoes it."""

    code = "UNSAFE_PLACEHOLDER"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"placeholder {{{name}}} refused: {reason}")
        self.name = name
        self.reason = reason


def unsafe_reason(value: str, separators: str) -> str | None:
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return f"contains the control character U+{ord(char):04X}"
        if char in separators:
            return f"contains the command separator {char!r}"
    return None


def render(template: str, values: Mapping[str, object], separators: str) -> str:
    """Replace each `{name}` by its value; unknown or missing values become ''.

    Raises UnsafePlaceholder before anything is returned, so a refused command never has a
    text that could be executed by mistake.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        raw = values.get(name)
        value = "" if raw is None else str(raw)
        reason = unsafe_reason(value, separators)
        if reason:
            raise UnsafePlaceholder(name, reason)
        return value

    return _PLACEHOLDER.sub(substitute, template)
