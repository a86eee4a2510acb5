"""A refused form post, answered to what sent it.

A browser posting a plain form gets the usual redirect back with the message shown on the
page (post/redirect/get). A script (``Accept: application/json``) or an htmx request would
see that redirect's 302 and then a 200 page, i.e. success: they get the refusal itself,
a 4xx with the JSON error shape, or for htmx an HTML fragment with the message.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html

from shopkeep.core.errors import ServiceError


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def refusal_response(request: HttpRequest, error: ServiceError) -> HttpResponse | None:
    """The 4xx for a JSON or htmx client, or None for a browser (redirect with a message)."""
    if wants_json(request):
        body: dict = {"code": error.code, "message": error.message}
        if error.field:
            body["field"] = error.field
        return JsonResponse({"error": body}, status=error.status)
    if is_htmx(request):
        return HttpResponse(format_html('<p class="form-error" role="alert">{}</p>',
                                        error.message), status=error.status)
    return None


def too_large_response(request: HttpRequest, message: str) -> HttpResponse:
    """413 for an upload over the form's limit, in the shape the client reads."""
    refused = refusal_response(request, ServiceError("body_too_large", message, status=413))
    return refused or HttpResponse(message, status=413, content_type="text/plain")
