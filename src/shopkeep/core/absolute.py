"""Every absolute URL Shopkeep generates (e-mails, agent config, Stripe webhook URL, signed
attachment links, demo output) is built here, so none assumes a host or a port.

Where the origin comes from, first match wins:
1. ``SHOPKEEP_SITE_URL`` when it is configured (required in production): the public address,
   also right behind a proxy whose inner host name the request would show.
2. The request being answered: its scheme and ``Host`` (already checked against
   ``ALLOWED_HOSTS`` by Django), so a page shows the address the owner actually typed.
3. The serving address: ``shopkeep serve`` publishes its bind host and port to the worker,
   scheduler and dispatcher it starts (``SHOPKEEP_SERVE_ORIGIN``), so a link made in a worker
   points at the port that is really listening; without ``serve`` it is
   ``SHOPKEEP_HOST``/``SHOPKEEP_PORT`` (the same defaults ``serve`` uses).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site_origin(*, request: HttpRequest | None = None) -> str:
    """``scheme://host[:port]`` with no trailing slash."""
    if settings.SITE_URL_CONFIGURED:
        return settings.SITE_URL
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return settings.SITE_URL


def absolute_url(path: str, *, request: HttpRequest | None = None) -> str:
    """``path`` (from ``reverse()``, starting with ``/``) prefixed with the site's origin."""
    if not path.startswith("/") or path.startswith("//"):
        # A full URL or a scheme-relative one here is a bug in the caller: refuse it rather
        # than produce a link to somewhere else.
        raise ValueError(f"absolute_url takes a path starting with one '/', got {path!r}")
    return site_origin(request=request) + path
