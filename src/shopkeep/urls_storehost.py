"""URLs on a store's own host (subdomain or verified custom domain): the storefront at the
root, plus what its pages link to (payment hand-off, images). No dashboard, no API."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from shopkeep.storefront import views as storefront_views
from shopkeep.storefront import views_extra, views_pay, views_signin

urlpatterns = [
    path("", include("shopkeep.storefront.urls")),
    path("pay/sandbox/<str:session_id>/", views_pay.sandbox_pay_branded),
    path("pay/", include("shopkeep.payments.urls")),
    path("signin/discord/callback/", views_signin.discord_callback,
         name="signin_discord_callback"),
    path("media/product-images/<str:name>", storefront_views.product_image,
         name="product_image"),
    path("media/store-images/<str:name>", views_extra.store_image, name="store_image"),
]


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    # The platform's 404 page links to the dashboard, which a store host does not serve.
    from shopkeep.storefront.shop import render_page

    return render_page(request, request.host_store, "not_found.html", status=404)


def handler500(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Something went wrong on our side. Please try again in a moment.",
                        status=500, content_type="text/plain; charset=utf-8")
