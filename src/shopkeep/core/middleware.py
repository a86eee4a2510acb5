from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

# No inline scripts or styles anywhere: htmx is loaded from /static and configured through a
# <meta> tag, so 'self' is enough. data: images are the TOTP QR codes allauth renders.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Adds a strict Content-Security-Policy to every response (sync and async alike)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "SHOPKEEP_CSP", DEFAULT_CSP)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _apply(self, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        return self._apply(self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._apply(await self.get_response(request))


def is_out_of_range(exc: BaseException) -> bool:
    """A number the database cannot hold reached a query: SQLite cannot bind an int beyond
    64 bits (OverflowError), PostgreSQL refuses it (numeric_value_out_of_range, SQLSTATE
    22003). Inputs are bounded where they are parsed; this is the net under that."""
    if isinstance(exc, OverflowError):
        return "SQLite INTEGER" in str(exc)
    from django.db import DataError

    if isinstance(exc, DataError):
        return getattr(exc.__cause__, "sqlstate", None) == "22003"
    return False


class OutOfRangeMiddleware:
    """Turns an out-of-range number that slipped past input parsing into a 404 page (HTML
    paths: no object can have that id) or a 422 JSON error (anything under /api/), never a
    500. The store API answers it itself (shopkeep.api); this covers every other view."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_out_of_range(exception):
            return None
        from django.http import JsonResponse
        from django.views.defaults import page_not_found

        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": "validation_error",
                                           "message": "A number in the request is out of "
                                                      "range (signed 64 bits at most)."}},
                                status=422)
        from django.http import Http404

        return page_not_found(request, Http404("out of range"))
