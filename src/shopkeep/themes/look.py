"""The Store Builder's settings document (stored as JSON in ``draft`` and ``published``) and
its validation. Every key has a default, and reading tolerates anything, so a page never
breaks on a stored value; writing refuses invalid input with a message naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shopkeep.core.errors import ServiceError
from shopkeep.core.text import has_control_chars
from shopkeep.themes.registry import DEFAULT_THEME, Theme, get_theme, installed_themes

MAX_CSS_BYTES = 20 * 1024
IMAGE_KEYS = ("logo", "banner", "favicon")
IMAGE_NAME = re.compile(r"^[0-9a-f]{24}\.(png|jpg|gif|webp)$")
SOCIAL_KEYS = ("discord_url", "website_url", "youtube_url", "x_url", "tiktok_url")
SOCIAL_LABELS = {"discord_url": "Discord", "website_url": "Website", "youtube_url": "YouTube",
                 "x_url": "X", "tiktok_url": "TikTok"}
WIDGETS = {
    "server_status": "Server status (online, players X/Y)",
    "recent_purchases": "Recent purchases (player name and product of buyers who opted in at "
                        "checkout; never e-mails or amounts)",
    "top_customer": "Top supporter of the month (among buyers who opted in at checkout)",
    "goal": "Community goal with a progress bar",
    "announcement": "Announcement bar",
}
# key -> (max length, label)
TEXT_KEYS: dict[str, tuple[int, str]] = {
    "tagline": (120, "Tagline"),
    "meta_description": (300, "Search description"),
    "server_address": (100, "Server address"),
    "announcement": (200, "Announcement"),
    "goal_title": (80, "Goal title"),
}
_ADDRESS = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


@dataclass(frozen=True)
class Look:
    """A resolved settings document: what the templates read."""

    theme: Theme
    options: dict[str, Any]
    texts: dict[str, str]
    images: dict[str, str]
    social: dict[str, str]
    widgets: dict[str, bool]
    goal_amount: Decimal | None
    max_players: int | None
    custom_css: str

    def __getattr__(self, name: str) -> Any:
        # Templates say {{ look.tagline }} rather than {{ look.texts.tagline }}.
        texts = self.__dict__.get("texts", {})
        if name in texts:
            return texts[name]
        raise AttributeError(name)

    @property
    def social_links(self) -> list[tuple[str, str, str]]:
        return [(key.removesuffix("_url"), SOCIAL_LABELS[key], url)
                for key, url in self.social.items() if url]


def _text(value: Any, max_length: int) -> str:
    return value[:max_length] if isinstance(value, str) else ""


def resolve(doc: dict | None) -> Look:
    doc = doc if isinstance(doc, dict) else {}
    theme = get_theme(doc.get("theme") or DEFAULT_THEME)
    widgets = doc.get("widgets") if isinstance(doc.get("widgets"), dict) else {}
    try:
        goal = Decimal(str(doc.get("goal_amount") or "")) if doc.get("goal_amount") else None
    except InvalidOperation:
        goal = None
    max_players = doc.get("max_players")
    return Look(
        theme=theme,
        options=theme.clean_options(doc.get("options")),
        texts={key: _text(doc.get(key), n) for key, (n, _) in TEXT_KEYS.items()},
        images={key: doc[key] for key in IMAGE_KEYS
                if isinstance(doc.get(key), str) and IMAGE_NAME.match(doc[key])},
        social={key: doc[key] for key in SOCIAL_KEYS
                if isinstance(doc.get(key), str) and doc[key].startswith("https://")},
        widgets={key: widgets.get(key) is True for key in WIDGETS},
        goal_amount=goal if goal is not None and goal.is_finite() and goal > 0 else None,
        max_players=max_players if isinstance(max_players, int) and max_players > 0 else None,
        custom_css=_text(doc.get("custom_css"), MAX_CSS_BYTES),
    )


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Check a form's worth of changes; returns the cleaned values or raises ServiceError
    naming the field."""
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "theme":
            if value not in installed_themes():
                raise ServiceError("invalid_theme", "Choose an installed theme.", field=key)
            clean[key] = value
        elif key == "options":
            clean[key] = _validate_options(changes.get("theme"), value)
        elif key in TEXT_KEYS:
            clean[key] = _validate_text(key, value)
        elif key in SOCIAL_KEYS:
            clean[key] = _validate_url(key, value)
        elif key == "widgets":
            if not isinstance(value, dict) or set(value) - set(WIDGETS):
                raise ServiceError("invalid_widgets", "Unknown widget.", field=key)
            clean[key] = {k: bool(v) for k, v in value.items()}
        elif key == "goal_amount":
            clean[key] = _validate_amount(value)
        elif key == "max_players":
            if value is not None and (not isinstance(value, int) or not 0 < value <= 100_000):
                raise ServiceError("invalid_max_players", "Enter a number of slots from 1 to "
                                   "100000, or leave it empty.", field=key)
            clean[key] = value
        elif key == "custom_css":
            clean[key] = _validate_css(value)
        elif key in IMAGE_KEYS:
            if value and not (isinstance(value, str) and IMAGE_NAME.match(value)):
                raise ServiceError("invalid_image", "Not an uploaded image.", field=key)
            clean[key] = value or ""
        else:
            raise ServiceError("unknown_setting", f"Unknown setting {key!r}.", field=None)
    return clean


def _validate_options(theme_name: str | None, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ServiceError("invalid_options", "Theme options must be a mapping.",
                           field="options")
    theme = get_theme(theme_name or DEFAULT_THEME)
    known = {opt.key: opt for opt in theme.options}
    for key, raw in value.items():
        option = known.get(key)
        if option is None or option.clean(raw) != raw:
            raise ServiceError("invalid_option", f"{option.label if option else key}: "
                               "choose one of the offered values.", field=f"option_{key}")
    return dict(value)


def _validate_text(key: str, value: Any) -> str:
    max_length, label = TEXT_KEYS[key]
    value = " ".join(str(value or "").split())
    if len(value) > max_length:
        raise ServiceError("too_long", f"{label}: at most {max_length} characters.", field=key)
    if has_control_chars(value):
        raise ServiceError("invalid_text", f"{label}: no control characters.", field=key)
    if key == "server_address" and value and not _ADDRESS.match(value):
        raise ServiceError("invalid_address", "Server address: a host name with an optional "
                           "port, like play.example.com:25565.", field=key)
    return value


def _validate_url(key: str, value: Any) -> str:
    value = str(value or "").strip()
    if value and (not value.startswith("https://") or len(value) > 300
                  or has_control_chars(value) or " " in value):
        raise ServiceError("invalid_url", f"{SOCIAL_LABELS[key]}: an https:// address.",
                           field=key)
    return value


def _validate_amount(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount <= 0 or amount > Decimal("10000000"):
        raise ServiceError("invalid_amount", "Goal: an amount above 0.", field="goal_amount")
    return str(amount.quantize(Decimal("0.01")))


def _validate_css(value: Any) -> str:
    value = str(value or "").replace("\r\n", "\n")
    if len(value.encode()) > MAX_CSS_BYTES:
        raise ServiceError("css_too_large", f"Custom CSS: at most {MAX_CSS_BYTES // 1024} KB.",
                           field="custom_css")
    if "\x00" in value:
        raise ServiceError("invalid_css", "Custom CSS: no NUL characters.", field="custom_css")
    return value
