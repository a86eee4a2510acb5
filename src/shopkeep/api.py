"""The store API at /api/v1/: routers from each domain, JSON errors in one shape."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from shopkeep.catalog.api import router as catalog_router
from shopkeep.core.api_inputs import bound_api_inputs
from shopkeep.core.errors import ServiceError
from shopkeep.core.middleware import is_out_of_range
from shopkeep.customers.api import router as customers_router
from shopkeep.customers.api_bans import router as customer_bans_router
from shopkeep.dashboard.api_analytics import router as analytics_router
from shopkeep.delivery.api import router as delivery_router
from shopkeep.delivery.api_adhoc import router as delivery_adhoc_router
from shopkeep.delivery.api_agent import RateLimited
from shopkeep.delivery.api_agent import router as agent_router
from shopkeep.discord.api import router as discord_router
from shopkeep.disputes.api import router as disputes_router
from shopkeep.orders.api import router as orders_router
from shopkeep.orders.api_creators import router as creators_report_router
from shopkeep.orders.api_tax import router as tax_router
from shopkeep.payments.api import router as payments_router
from shopkeep.promotions.api import router as promotions_router
from shopkeep.promotions.api_tiers import router as tiers_router
from shopkeep.signin.api import router as signin_router
from shopkeep.stores.api import router as store_router
from shopkeep.stores.api_auth import InsufficientScope
from shopkeep.subscriptions.api import router as subscriptions_router
from shopkeep.support.api import router as support_router
from shopkeep.webhooks.api import router as webhooks_router

api = NinjaAPI(
    title="Shopkeep API",
    version="1",
    description=(
        "Store API. Authenticate with `Authorization: Bearer sk_...` (create tokens in the "
        "dashboard under Settings > API tokens). Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(request: HttpRequest, status: int, code: str, message: str,
                   **extra: object) -> HttpResponse:
    body: dict = {"error": {"code": code, "message": message, **extra}}
    return api.create_response(request, body, status=status)


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    extra = {"field": exc.field} if exc.field else {}
    return error_response(request, exc.status, exc.code, exc.message, **extra)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = error_response(request, 429, exc.code, exc.message)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(InsufficientScope)
def _insufficient_scope(request: HttpRequest, exc: InsufficientScope) -> HttpResponse:
    return error_response(request, 403, "insufficient_scope",
                          f"This token lacks the {exc.scope!r} scope.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(request, 401, "unauthenticated",
                              "Missing, invalid, expired or revoked API token.")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {"loc": [str(part) for part in err.get("loc", [])], "message": err.get("msg", "")}
        for err in exc.errors
    ]
    return error_response(request, 422, "validation_error", "The request is not valid.",
                          details=details)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Reached only without the ASGI cap in front (WSGI, the test client): same answer.
    return error_response(request, 413, "body_too_large",
                          "The request body is larger than this address accepts (1 MiB).")


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The net under the bounded input types (core/api_inputs.py): a number the database
    # cannot hold is the client's mistake, never a 500.
    if not is_out_of_range(exc):
        raise exc
    return error_response(request, 422, "validation_error",
                          "A number in the request is out of range (signed 64 bits at most).")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "http_error", str(exc))


api.add_router("/", store_router)
api.add_router("/", catalog_router)
api.add_router("/", customers_router)
api.add_router("/", customer_bans_router)
api.add_router("/", orders_router)
api.add_router("/", subscriptions_router)
api.add_router("/", disputes_router)
api.add_router("/", delivery_router)
api.add_router("/", delivery_adhoc_router)
api.add_router("/agent", agent_router)
api.add_router("/", payments_router)
api.add_router("/", discord_router)
api.add_router("/", support_router)
api.add_router("/", webhooks_router)
api.add_router("/", creators_report_router)
api.add_router("/", promotions_router)
api.add_router("/", tiers_router)
api.add_router("/", tax_router)
api.add_router("/", analytics_router)
api.add_router("/", signin_router)

# Last, after every router: bound every integer and decimal input (core/api_inputs.py).
bound_api_inputs(api)
