"""Typed readers for environment variables.

Settings come from the environment only; every reader raises ``ImproperlyConfigured``
with the variable's name and the offending value, so a typo stops the process at
start-up instead of surfacing as odd behaviour later.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be <= {maximum}, got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """Turn ``sqlite:///path`` or ``postgres://user:pass@host:port/db`` into a DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative/path.db (three slashes) or sqlite:////absolute/path.db
        raw_path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not raw_path:
            raise ImproperlyConfigured(f"SQLite database URL has no file path: {url!r}")
        path = Path(raw_path)
        if not path.is_absolute():
            path = base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            # WAL lets the worker and the web process share the file; the busy timeout and
            # IMMEDIATE transactions turn writer contention into waiting, not "database is locked".
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"PostgreSQL database URL has no database name: {url!r}")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            pool_min = int(query.pop("pool_min", "1"))
            pool_max = int(query.pop("pool_max", "10"))
        except ValueError:
            raise ImproperlyConfigured(f"pool_min/pool_max must be integers in {url!r}") from None
        options: dict = {
            # Django's psycopg pool instead of CONN_MAX_AGE: persistent connections leak under ASGI.
            "pool": {"min_size": pool_min, "max_size": pool_max, "timeout": 10},
        }
        options.update(query)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 0,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"SHOPKEEP_DATABASE_URL must start with sqlite:// or postgres://, got {scheme or url!r}"
    )


def bind_origin(host: str, port: int, *, scheme: str = "http") -> str:
    """The origin links should use for a server bound to ``host:port``. A wildcard bind
    (0.0.0.0, ::) answers on loopback too, and loopback is the one address sure to work."""
    host = host.strip() or "127.0.0.1"
    if host in ("0.0.0.0", "*"):  # noqa: S104 (reading a bind address, not binding)
        host = "127.0.0.1"
    elif host in ("::", "[::]"):
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal needs brackets in a URL
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


def site_url_check(url: str, *, name: str = "SHOPKEEP_SITE_URL") -> str:
    """An origin (``scheme://host[:port]``): no path, query or credentials, since every link
    is built as origin + ``reverse()`` path."""
    value = url.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must look like https://shop.example.com, "
                                   f"got {url!r}")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(f"{name} must be just scheme://host[:port] (no path, "
                                   f"query or login), got {url!r}")
    try:
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port: {url!r}") from None
    return value
