"""Public addresses of a store: its custom domain, its subdomain, or /s/<slug>/ on the
platform. Canonical links, sitemaps and e-mails use these; nothing else builds one."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from shopkeep.core.absolute import absolute_url
from shopkeep.stores.models import Store


def store_base_url(store: Store) -> str:
    """The store's home page, without a trailing slash."""
    from shopkeep.themes.models import StoreDomain

    scheme = urlsplit(settings.SITE_URL).scheme or "https"
    domain = (StoreDomain.objects.filter(store=store, status=StoreDomain.Status.VERIFIED)
              .order_by("-is_primary", "hostname").values_list("hostname", flat=True).first())
    if domain:
        return f"https://{domain}"  # custom domains are served by the TLS proxy only
    if settings.SHOPKEEP_STORE_DOMAIN:
        return f"{scheme}://{store.slug}.{settings.SHOPKEEP_STORE_DOMAIN}"
    return absolute_url(f"/s/{store.slug}").rstrip("/")


def store_public_url(store: Store, path: str = "/") -> str:
    """``path`` is relative to the store's home ("/", "/p/vip-rank/")."""
    if not path.startswith("/"):
        raise ValueError("store paths start with /")
    return store_base_url(store) + path


def shop_absolute_url(request: HttpRequest, path: str) -> str:
    """An absolute link for a storefront page being answered (payment return, sign-in link).
    On a store's own host it stays on that host: the buyer's session lives there, and the
    path has no /s/<slug>/ prefix that the platform host would need."""
    if getattr(request, "host_store", None) is not None:
        return request.build_absolute_uri(path)
    return absolute_url(path, request=request)
