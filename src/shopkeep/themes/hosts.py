"""Store hosts: ``<slug>.<SHOPKEEP_STORE_DOMAIN>`` and verified custom domains serve one
store at the root of the host (``/p/vip/`` instead of ``/s/<slug>/p/vip/``).

The storefront's URL patterns capture the store with the ``store`` converter below. On the
platform host it is ``<slug>/`` after ``/s/``; on a store host it is empty and the store comes
from the host, so the same patterns, views and ``{% url %}`` tags serve both."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponsePermanentRedirect,
)
from django.http.request import split_domain_port, validate_host

from shopkeep.stores.models import Store

# The slug of the store whose own host is being served, or None on the platform host.
host_store_slug: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "host_store_slug", default=None)

HOST_URLCONF = "shopkeep.urls_storehost"
DOMAIN_CACHE_SECONDS = 60


class StoreSlugConverter:
    regex = r"(?:[-a-zA-Z0-9_]+/)?"

    def to_python(self, value: str) -> str:
        host_slug = host_store_slug.get()
        if host_slug is not None:
            # A store host serves its own store only, at the root.
            if value:
                raise ValueError("a store host serves one store")
            return host_slug
        if not value:
            raise ValueError("no store")
        return value[:-1]

    def to_url(self, value: str) -> str:
        if value == host_store_slug.get():
            return ""
        return f"{value}/"


def domain_cache_key(hostname: str) -> str:
    return f"store-host:{hostname}"


def forget_domain(hostname: str) -> None:
    cache.delete(domain_cache_key(hostname))


def primary_cache_key(store_id: int) -> str:
    return f"store-primary:{store_id}"


def forget_primary(store_id: int) -> None:
    cache.delete(primary_cache_key(store_id))


def primary_host(store_id: int) -> str:
    """The store's chosen main domain while it is verified, else ''."""
    from shopkeep.themes.models import StoreDomain

    key = primary_cache_key(store_id)
    host = cache.get(key)
    if host is None:
        host = (StoreDomain.objects.filter(store_id=store_id, is_primary=True,
                                           status=StoreDomain.Status.VERIFIED)
                .values_list("hostname", flat=True).first()) or ""
        cache.set(key, host, DOMAIN_CACHE_SECONDS)
    return host


def store_for_host(hostname: str) -> tuple[Store | None, bool]:
    """(store, is_custom_domain) for a request's host name; (None, False) for the platform."""
    hostname = hostname.lower().rstrip(".")
    suffix = settings.SHOPKEEP_STORE_DOMAIN
    if suffix and hostname.endswith(f".{suffix}"):
        label = hostname[: -len(suffix) - 1]
        if "." in label:
            return None, False
        return Store.objects.filter(slug=label, status=Store.Status.ACTIVE).first(), False
    if hostname in settings.PLATFORM_HOSTS or not hostname:
        return None, False
    from shopkeep.themes.models import StoreDomain

    key = domain_cache_key(hostname)
    store_id = cache.get(key)
    if store_id is None:
        store_id = (StoreDomain.objects.filter(hostname=hostname,
                                               status=StoreDomain.Status.VERIFIED)
                    .values_list("store_id", flat=True).first()) or 0
        cache.set(key, store_id, DOMAIN_CACHE_SECONDS)
    if not store_id:
        return None, False
    return Store.objects.filter(pk=store_id, status=Store.Status.ACTIVE).first(), True


class StoreHostMiddleware:
    """First in the stack: routes store hosts to the storefront before anything reads
    ``request.get_host()``. A custom domain is not in ALLOWED_HOSTS (owners add them at any
    time); it is validated here, against the verified-domain table, instead."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _needs_lookup(request: HttpRequest) -> bool:
        """Cheap and database-free, so the platform's own requests (the agent API's hot
        path among them) never leave the event loop for a thread here."""
        domain, _port = split_domain_port(request.META.get("HTTP_HOST", ""))
        if not domain or domain in settings.PLATFORM_HOSTS:
            return False
        suffix = settings.SHOPKEEP_STORE_DOMAIN
        if suffix and domain.endswith(f".{suffix}"):
            return True
        # Hosts Django accepts are the platform's own; anything else may be a custom domain.
        return not validate_host(domain, settings.ALLOWED_HOSTS)

    @staticmethod
    def _route(request: HttpRequest) -> tuple[str | None, HttpResponse | None]:
        raw = request.META.get("HTTP_HOST", "")
        domain, _port = split_domain_port(raw)
        store, custom = store_for_host(domain)
        if store is None:
            return None, HttpResponseNotFound("No store is served at this address.",
                                              content_type="text/plain")
        primary = primary_host(store.pk)
        if primary and domain.lower().rstrip(".") != primary and request.method in (
                "GET", "HEAD"):
            # The owner chose a main address: the store's other hosts send readers and
            # crawlers there, path and query kept. Form posts are answered where they were
            # sent (a redirect would drop their body); /s/<slug>/ is the platform's address
            # and keeps working.
            return None, HttpResponsePermanentRedirect(
                f"https://{primary}{request.get_full_path()}")
        request.urlconf = HOST_URLCONF
        request.host_store = store
        if custom:
            # Validated against the verified-domain table; Django's host check only knows
            # the platform's own names.
            request.get_host = lambda: raw
        return store.slug, None

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        if not self._needs_lookup(request):
            return self.get_response(request)
        slug, refusal = self._route(request)
        if refusal is not None:
            return refusal
        token = host_store_slug.set(slug)
        try:
            return self.get_response(request)
        finally:
            host_store_slug.reset(token)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if not self._needs_lookup(request):
            return await self.get_response(request)
        slug, refusal = await sync_to_async(self._route)(request)
        if refusal is not None:
            return refusal
        token = host_store_slug.set(slug)
        try:
            return await self.get_response(request)
        finally:
            host_store_slug.reset(token)
