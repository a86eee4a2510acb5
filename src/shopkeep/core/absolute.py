"""Absolute URLs from one place (STYLE.md: no code assumes a host or port).

Created by the storefront helper with the agreed signature while cockpit's version had not
landed; cockpit's version replaces this one on merge."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def absolute_url(path: str, *, request: HttpRequest | None = None) -> str:
    if not path.startswith("/"):
        raise ValueError("absolute_url takes a path starting with /")
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL + path
