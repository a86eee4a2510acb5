"""Configuration: a TOML file plus environment variables; secrets inline, from files or env.

Precedence (highest first): environment variables, the file, defaults. The secrets
(``store_secret``, ``server_secret``, the game's ``password``) may instead be given as
``<key>_file`` (a path whose content, stripped, is the value) so secrets can live in
files readable only by the agent's user (Docker/systemd credentials).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the 3.9/3.10 hosts the agent supports
    import tomli as tomllib

ENV_PREFIX = "SHOPKEEP_AGENT_"
DEFAULT_CONFIG = "shopkeep-agent.toml"
JOURNAL_NAME = "shopkeep-agent-journal.sqlite3"
# Game settings that adapters expect as numbers; everything else stays a string so that a
# numeric-looking password is never turned into an int.
_NUMERIC_GAME_KEYS = {"port", "timeout", "webrcon_port", "rcon_port"}
# Keys that may be given as ``<key>_file`` (the file's stripped content is the value).
_SECRET_KEYS = {"store_secret", "server_secret", "password", "api_key"}


def _secret_key(key: str) -> str | None:
    if key.endswith("_file") and key[: -len("_file")] in _SECRET_KEYS:
        return key[: -len("_file")]
    return None


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Config:
    url: str
    store_secret: str
    server_secret: str
    poll_seconds: int = 60
    long_poll: bool = True
    online_check_seconds: int = 10
    ca_file: str | None = None
    game: dict[str, Any] = field(default_factory=dict)
    journal_path: str = JOURNAL_NAME
    log_level: str = "info"
    source: str | None = None
    # Files whose change lifts a stop after 401/403 (the config file and any *_file secret).
    watched: tuple[str, ...] = ()

    @property
    def wait_seconds(self) -> int:
        """Long-poll hold asked of the platform (its maximum is 30 s)."""
        return min(30, self.poll_seconds) if self.long_poll else 0


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    return Path(explicit or environ.get(ENV_PREFIX + "CONFIG") or DEFAULT_CONFIG)


def _read_secret_file(path: str, key: str, watched: list) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{key}_file: cannot read {path}: {exc.strerror}") from exc
    watched.append(str(Path(path).resolve()))
    return value


def _resolve_files(section: dict[str, Any], where: str, base: Path,
                   watched: list) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in section.items():
        real = _secret_key(key)
        if real:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}.{key} must be a path")
            out[real] = _read_secret_file(str(base / value), f"{where}.{real}", watched)
        else:
            out.setdefault(key, value)
    return out


def _env_section(environ: Mapping[str, str], prefix: str, base: Path, watched: list,
                 ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(prefix):
            continue
        key = name[len(prefix):].lower()
        real = _secret_key(key)
        if real:
            out[real] = _read_secret_file(str(base / value), name, watched)
        else:
            out[key] = value
    return out


def _as_int(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value!r}")
    return number


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _game_settings(game: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in game.items():
        if key in _NUMERIC_GAME_KEYS and isinstance(value, str):
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                raise ConfigError(f"game.{key} must be a number, got {value!r}") from None
        out[key] = value
    if not out.get("type"):
        raise ConfigError("game.type is required (shopkeep-agent adapters lists them)")
    return out


def load_config(path: str | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Read the file (if it exists) and the environment into a validated Config."""
    env = os.environ if environ is None else environ
    file_path = config_path(path, env)
    explicit = bool(path or env.get(ENV_PREFIX + "CONFIG"))
    data: dict[str, Any] = {}
    watched: list = []
    if file_path.is_file():
        try:
            data = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file_path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{file_path}: cannot read: {exc.strerror}") from exc
        watched.append(str(file_path.resolve()))
    elif explicit:
        raise ConfigError(f"config file {file_path} does not exist")
    base = file_path.resolve().parent
    for section in ("platform", "game", "agent"):
        if not isinstance(data.get(section, {}), dict):
            raise ConfigError(f"[{section}] must be a table")
    unknown = set(data) - {"platform", "game", "agent"}
    if unknown:
        raise ConfigError(f"unknown section(s) {sorted(unknown)}: use [platform], [game], [agent]")

    platform = _resolve_files(dict(data.get("platform", {})), "platform", base, watched)
    agent = _resolve_files(dict(data.get("agent", {})), "agent", base, watched)
    game = _resolve_files(dict(data.get("game", {})), "game", base, watched)
    if isinstance(game.get("players"), dict):
        # The panel adapter's player source is another adapter's settings ([game.players]).
        game["players"] = _resolve_files(dict(game["players"]), "game.players", base, watched)
    cwd = Path.cwd()
    for key, value in _env_section(env, ENV_PREFIX + "GAME_", cwd, watched).items():
        game[key] = value
    flat_env = {k: v for k, v in env.items()
                if k.startswith(ENV_PREFIX) and not k.startswith(ENV_PREFIX + "GAME_")
                and k != ENV_PREFIX + "CONFIG"}
    for key, value in _env_section(flat_env, ENV_PREFIX, cwd, watched).items():
        target = agent if key in ("journal", "log_level", "online_check_seconds") else platform
        target[key] = value

    url = str(platform.get("url", "")).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"platform.url must be the store's http(s) address, got {url!r} "
                          f"(set it in {file_path} or {ENV_PREFIX}URL)")
    secrets = {}
    for name, _prefix in (("store_secret", "sks_"), ("server_secret", "srv_")):
        value = str(platform.get(name, "")).strip()
        if not value:
            raise ConfigError(f"platform.{name} is missing (set {name} or {name}_file in "
                              f"{file_path}, or {ENV_PREFIX}{name.upper()}); the dashboard "
                              f"shows it once under Servers")
        if any(ord(c) < 33 or ord(c) > 126 for c in value):
            raise ConfigError(f"platform.{name} contains spaces or invisible characters")
        secrets[name] = value
    level = str(agent.get("log_level", "info")).lower()
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"agent.log_level must be debug, info, warning or error, got {level!r}")
    journal = Path(str(agent.get("journal", JOURNAL_NAME)))
    if not journal.is_absolute():
        journal = base / journal
    ca_file = platform.get("ca_file") or None
    return Config(
        url=url,
        store_secret=secrets["store_secret"],
        server_secret=secrets["server_secret"],
        poll_seconds=_as_int(platform.get("poll_seconds", 60), "platform.poll_seconds", 5, 60),
        long_poll=_as_bool(platform.get("long_poll", True), "platform.long_poll"),
        online_check_seconds=_as_int(agent.get("online_check_seconds", 10),
                                     "agent.online_check_seconds", 1, 60),
        ca_file=str(base / ca_file) if ca_file else None,
        game=_game_settings(game),
        journal_path=str(journal),
        log_level=level,
        source=str(file_path.resolve()) if file_path.is_file() else None,
        watched=tuple(dict.fromkeys(watched)),
    )


def fingerprint(paths: tuple[str, ...]) -> tuple[tuple[str, float, int], ...]:
    """Modification times and sizes of the watched files: a change means "reload"."""
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((path, st.st_mtime, st.st_size))
        except OSError:
            out.append((path, -1.0, -1))
    return tuple(out)
