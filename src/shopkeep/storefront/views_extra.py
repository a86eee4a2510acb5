"""Storefront pages beyond browsing and checkout: Markdown pages, the live order fragment and
receipt, the store's stylesheet, sitemap.xml and robots.txt, branding images, preview exit."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from shopkeep.catalog.models import Product
from shopkeep.orders.models import Order
from shopkeep.storefront.order_view import order_view
from shopkeep.storefront.shop import (
    PREVIEW_KEY,
    cached_page,
    open_store,
    page_context,
    render_page,
    shop_for,
    shop_store,
)
from shopkeep.themes.css import store_stylesheet
from shopkeep.themes.look import IMAGE_NAME
from shopkeep.themes.models import StorePage
from shopkeep.themes.public_urls import store_public_url
from shopkeep.themes.services import IMAGE_DIR


@cached_page
@open_store
def store_page(request: HttpRequest, store_slug: str, page_slug: str) -> HttpResponse:
    store = shop_store(store_slug)
    shop = shop_for(request, store)
    pages = StorePage.objects.filter(store=store, slug=page_slug)
    if not shop.preview:
        pages = pages.filter(is_published=True)
    page = get_object_or_404(pages)
    return render_page(request, store, "page.html", {"page": page})


def _order(store_slug: str, access_key: str) -> Order:
    store = shop_store(store_slug)
    return get_object_or_404(Order.objects.select_related("store"), store=store,
                             access_key=access_key)


def _private(response: HttpResponse) -> HttpResponse:
    # The address is the capability: never cached by anyone, never sent as a referrer.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


def order_live(request: HttpRequest, store_slug: str, access_key: str) -> HttpResponse:
    """The order page's status block, fetched by htmx every few seconds until the order
    reaches a state where nothing more happens by itself."""
    order = _order(store_slug, access_key)
    shop = shop_for(request, order.store)
    context = {**page_context(request, order.store, shop), **order_view(order)}
    html = render_to_string(shop.look.theme.template_names("_order_live.html"), context,
                            request=request)
    return _private(HttpResponse(html))


def order_receipt(request: HttpRequest, store_slug: str, access_key: str) -> HttpResponse:
    order = _order(store_slug, access_key)
    if order.paid_at is None:
        raise Http404("No receipt before payment")
    return _private(render_page(request, order.store, "receipt.html", order_view(order)))


@cached_page
def store_css(request: HttpRequest, store_slug: str) -> HttpResponse:
    """Theme settings as CSS custom properties, then the owner's custom CSS: a file under the
    store's own path, so the page needs no inline style and the CSP stays strict."""
    store = shop_store(store_slug)
    shop = shop_for(request, store)
    response = HttpResponse(store_stylesheet(shop.look), content_type="text/css; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    # The URL carries the settings version, so a long cache life is safe.
    response["Cache-Control"] = ("private, no-store" if shop.preview
                                 else "public, max-age=31536000, immutable")
    return response


@cached_page
def sitemap(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = shop_store(store_slug)
    products = Product.objects.on_sale().filter(store=store).only("slug", "updated_at")
    urls = [(store_public_url(store, "/"), None)]
    urls += [(store_public_url(store, f"/p/{p.slug}/"), p.updated_at) for p in products]
    urls += [(store_public_url(store, f"/pages/{p.slug}/"), p.updated_at)
             for p in StorePage.objects.filter(store=store, is_published=True)]
    body = render_to_string("storefront/sitemap.xml", {"urls": urls})
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


@cached_page
def robots(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = shop_store(store_slug)
    shop = shop_for(request, store)
    lines = ["User-agent: *"]
    if shop.row.maintenance_enabled:
        lines.append("Disallow: /")
    else:
        # Private or personal pages: orders (capability URLs), baskets, accounts, support.
        base = store_public_url(store, "/").split("://", 1)[1].split("/", 1)
        prefix = "/" + base[1] if len(base) > 1 else "/"
        for part in ("basket/", "checkout/", "order/", "account/", "support/"):
            lines.append(f"Disallow: {prefix}{part}")
    lines.append(f"Sitemap: {store_public_url(store, '/sitemap.xml')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def store_image(request: HttpRequest, name: str) -> FileResponse:
    """Logos, banners and favicons: public, and only names the upload check produced."""
    if IMAGE_NAME.match(name) is None or not default_storage.exists(f"{IMAGE_DIR}/{name}"):
        raise Http404("No such image")
    kind = name.rsplit(".", 1)[1]
    response = FileResponse(default_storage.open(f"{IMAGE_DIR}/{name}", "rb"),
                            content_type={"jpg": "image/jpeg"}.get(kind, f"image/{kind}"))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_POST
def preview_exit(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = shop_store(store_slug)
    request.session.pop(PREVIEW_KEY.format(store.pk), None)
    return redirect("storefront:home", store_slug=store.slug)
