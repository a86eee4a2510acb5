"""Remove what seed 000 says never to put in a ticket: full card numbers and API keys.

Both are redacted *before* the text is saved, so no copy exists anywhere (database, events,
e-mails); the writer is told what was removed and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CARD_MARK = "[card number removed]"
KEY_MARK = "[secret removed]"

# 13 to 19 digits, optionally grouped by single spaces or dashes (how people paste cards).
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")

# Well-known secret shapes, then a generic "long random token" rule.
_KEY_PATTERNS = (
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}\b"),  # Stripe
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]{16,}"),  # webhook signing secrets
    re.compile(r"\b(?:sk|ss|as)_[A-Za-z0-9_-]{20,}"),  # Shopkeep tokens and secrets
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{20,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----"
               r"|\Z)"),
)
# 32+ characters mixing letters and digits with no spaces: hashes, tokens, passwords.
# UUIDs (Minecraft player ids) and order numbers stay: they are not secrets.
_GENERIC = re.compile(r"(?<![A-Za-z0-9_/.-])[A-Za-z0-9_+/=-]{32,}(?![A-Za-z0-9_/.-])")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _looks_random(token: str) -> bool:
    if _UUID.match(token):
        return False
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha


@dataclass(frozen=True)
class Redacted:
    text: str
    kinds: tuple[str, ...]  # "card_number", "api_key"

    @property
    def notice(self) -> str:
        return notice_for(self.kinds)


def notice_for(kinds: list[str] | tuple[str, ...]) -> str:
    """What to tell the writer; empty when nothing was removed."""
    parts = []
    if "card_number" in kinds:
        parts.append("a card number")
    if "api_key" in kinds:
        parts.append("an API key or token")
    if not parts:
        return ""
    return (f"We removed {' and '.join(parts)} from your message before saving it. "
            "Never share card numbers, passwords or API keys in a ticket: anyone who can "
            "read the ticket could use them. If a key was exposed, revoke it now.")


def redact(text: str) -> Redacted:
    kinds: list[str] = []

    def card(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            if "card_number" not in kinds:
                kinds.append("card_number")
            return CARD_MARK
        return match.group(0)

    def key(match: re.Match) -> str:
        if "api_key" not in kinds:
            kinds.append("api_key")
        return KEY_MARK

    def generic(match: re.Match) -> str:
        return key(match) if _looks_random(match.group(0)) else match.group(0)

    text = _CARD.sub(card, text)
    for pattern in _KEY_PATTERNS:
        text = pattern.sub(key, text)
    text = _GENERIC.sub(generic, text)
    return Redacted(text=text, kinds=tuple(kinds))
