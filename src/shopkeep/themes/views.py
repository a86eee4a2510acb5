"""Platform endpoints of the domains feature (no store pages here)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from shopkeep.themes.hosts import store_for_host


@require_GET
def tls_ask(request: HttpRequest) -> HttpResponse:
    """Caddy's on-demand TLS ``ask`` endpoint: ``GET /tls/ask?domain=shop.example.com``.
    200 only for names this platform serves (a verified custom domain of an active store, an
    active store's subdomain, the platform itself), so nobody can make the proxy request
    certificates for arbitrary names pointed at it."""
    domain = request.GET.get("domain", "").strip().lower().rstrip(".")
    if not domain or len(domain) > 253:
        return HttpResponse("domain missing\n", status=400, content_type="text/plain")
    if domain in settings.PLATFORM_HOSTS:
        return HttpResponse("ok\n", content_type="text/plain")
    store, _custom = store_for_host(domain)
    if store is None:
        return HttpResponse("unknown domain\n", status=404, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
