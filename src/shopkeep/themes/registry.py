"""Installed themes. A theme is a Django app package the platform operator installs (Django
templates are not a sandbox, so store owners never upload templates): its AppConfig sets
``shopkeep_theme = True`` and the package holds ``manifest.json``, ``templates/themes/<name>/``
and ``static/themes/<name>/``. docs/themes.md describes the format."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

DEFAULT_THEME = "default"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
OPTION_TYPES = ("color", "choice", "bool")


@dataclass(frozen=True)
class ThemeOption:
    key: str
    label: str
    type: str
    default: Any
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    # Colour options become CSS custom properties in the store's stylesheet.
    css_var: str = ""

    def clean(self, value: Any) -> Any:
        """The value the theme receives: anything invalid falls back to the default, so a
        stored setting from an older manifest can never break a page."""
        if self.type == "bool":
            return value if isinstance(value, bool) else bool(self.default)
        if self.type == "color":
            return value if isinstance(value, str) and _COLOR.match(value) else self.default
        values = {c for c, _ in self.choices}
        return value if value in values else self.default


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    description: str
    version: str
    extends: str
    options: tuple[ThemeOption, ...] = field(default_factory=tuple)
    dark: bool = False

    def template_names(self, page: str) -> list[str]:
        names = [f"themes/{self.name}/{page}"]
        if self.extends:
            names += get_theme(self.extends).template_names(page)
        return names

    def clean_options(self, values: dict | None) -> dict[str, Any]:
        values = values if isinstance(values, dict) else {}
        return {opt.key: opt.clean(values.get(opt.key, opt.default)) for opt in self.options}

    @property
    def stylesheet(self) -> str:
        return f"themes/{self.name}/theme.css"


def _option(theme: str, raw: dict) -> ThemeOption:
    kind = raw.get("type")
    if kind not in OPTION_TYPES or not isinstance(raw.get("key"), str):
        raise ImproperlyConfigured(f"theme {theme}: bad option {raw!r}")
    choices = tuple((str(c[0]), str(c[1])) for c in raw.get("choices", []))
    option = ThemeOption(key=raw["key"], label=raw.get("label", raw["key"]), type=kind,
                         default=raw.get("default"), choices=choices, help=raw.get("help", ""),
                         css_var=raw.get("css_var", ""))
    if option.clean(option.default) != option.default:
        raise ImproperlyConfigured(f"theme {theme}: default of {option.key} is not valid")
    return option


def _load(path: Path) -> Theme:
    raw = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    name = raw["name"]
    return Theme(name=name, label=raw.get("label", name), description=raw.get("description", ""),
                 version=str(raw.get("version", "1")), extends=raw.get("extends", ""),
                 options=tuple(_option(name, o) for o in raw.get("options", [])),
                 dark=bool(raw.get("dark", False)))


@cache
def installed_themes() -> dict[str, Theme]:
    themes = {}
    for config in apps.get_app_configs():
        if getattr(config, "shopkeep_theme", False):
            theme = _load(Path(config.path))
            themes[theme.name] = theme
    if DEFAULT_THEME not in themes:
        raise ImproperlyConfigured("the default theme (shopkeep.themes.default) is not installed")
    for theme in themes.values():
        if theme.extends and theme.extends not in themes:
            raise ImproperlyConfigured(f"theme {theme.name} extends missing {theme.extends}")
    return themes


def get_theme(name: str) -> Theme:
    """The named theme, or the default one when it was uninstalled since it was chosen."""
    themes = installed_themes()
    return themes.get(name) or themes[DEFAULT_THEME]
