from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.urls import include, path
from django.views.defaults import bad_request
from django.views.generic.base import RedirectView

from shopkeep.api import api
from shopkeep.core import views as core_views
from shopkeep.platform.collector import metrics_view
from shopkeep.platform.views_billing import stripe_billing_webhook
from shopkeep.storefront import views as storefront_views
from shopkeep.storefront import views_extra as storefront_extra
from shopkeep.storefront import views_pay as storefront_pay
from shopkeep.storefront import views_signin as storefront_signin
from shopkeep.support import views as support_views
from shopkeep.themes import views as themes_views

urlpatterns = [
    path("", lambda request: redirect("dashboard:home"), name="root"),
    # Browsers ask for /favicon.ico on anything without an icon link (htmx fragments, JSON).
    path("favicon.ico", RedirectView.as_view(url=static("shopkeep/favicon.svg"), permanent=True),
         name="favicon"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("status/", include("shopkeep.platform.urls")),
    path("platform/billing/stripe/webhook/", stripe_billing_webhook,
         name="platform_billing_webhook"),
    path("api/v1/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("dashboard/", include("shopkeep.dashboard.urls")),
    path("staff/", include("shopkeep.staff.urls")),
    # The sandbox's hosted page in the store's theme (same path and name as in payments).
    path("pay/sandbox/<str:session_id>/", storefront_pay.sandbox_pay_branded),
    path("pay/", include("shopkeep.payments.urls")),
    path("discord/", include("shopkeep.discord.urls")),
    path("s/", include("shopkeep.storefront.urls")),
    # Discord's redirect URI: one for every store (docs/discord.md, "Sign in with Discord").
    path("signin/discord/callback/", storefront_signin.discord_callback,
         name="signin_discord_callback"),
    path("media/product-images/<str:name>", storefront_views.product_image,
         name="product_image"),
    path("media/store-images/<str:name>", storefront_extra.store_image, name="store_image"),
    path("tls/ask", themes_views.tls_ask, name="tls_ask"),
    path("support/attachments/<str:token>/<str:filename>", support_views.attachment_signed,
         name="support_attachment_signed"),
    path("support/survey/<str:token>/", support_views.survey, name="support_survey"),
]


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Django answers a body over DATA_UPLOAD_MAX_MEMORY_SIZE (read by a middleware or a form)
    # with 400; it is a 413, in the JSON error shape like the ASGI cap's (core/asgi_limits.py).
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"error": {"code": "body_too_large", "message":
                                       "The request body is larger than this address "
                                       "accepts."}}, status=413)
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "bad_request", "message": "Bad request."}},
                            status=400)
    return bad_request(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    # API clients get the API's JSON error shape for unknown paths too.
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": "Not found."}},
                            status=404)
    store_slug = request.path.split("/")[2] if request.path.startswith("/s/") else ""
    return render(request, "404.html", {"shop_slug": store_slug[:50]}, status=404)


def handler500(request: HttpRequest) -> HttpResponse:
    # The traceback went to the console log (django.request); the visitor gets no detail.
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "server_error", "message":
                                       "Something went wrong on our side; try again."}},
                            status=500)
    # No context processors or database: whatever failed may fail again.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
