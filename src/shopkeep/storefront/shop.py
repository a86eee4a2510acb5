"""What every storefront page shares: the store, its look (the published settings, or the
draft in a member's preview), the theme's templates, maintenance mode and the anonymous
page cache. Views stay thin by going through ``render_page``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import select_template
from django.utils import timezone

from shopkeep.catalog.models import Product
from shopkeep.promotions.models import Sale
from shopkeep.stores.models import Membership, Store
from shopkeep.themes import selectors
from shopkeep.themes.look import Look
from shopkeep.themes.models import StorefrontSettings
from shopkeep.themes.public_urls import store_public_url

PAGE_CACHE_SECONDS = 60
PREVIEW_KEY = "storefront_preview_{}"


def shop_store(slug: str) -> Store:
    return get_object_or_404(Store, slug=slug, status=Store.Status.ACTIVE)


def is_member(request: HttpRequest, store: Store) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or Membership.objects.filter(store=store, user=user).exists()


@dataclass
class Shop:
    store: Store
    row: StorefrontSettings
    look: Look
    preview: bool

    def template(self, page: str):
        return select_template(self.look.theme.template_names(page))


def shop_for(request: HttpRequest, store: Store) -> Shop:
    cached = getattr(request, "_shop", None)
    if cached is not None and cached.store.pk == store.pk:
        return cached
    row = selectors.storefront_row(store)
    preview = (bool(request.session.get(PREVIEW_KEY.format(store.pk)))
               if hasattr(request, "session") and PREVIEW_KEY.format(store.pk) in request.session
               else False)
    preview = preview and is_member(request, store)
    shop = Shop(store=store, row=row, look=selectors.look_for(row, preview=preview),
                preview=preview)
    request._shop = shop
    return shop


def store_path(request: HttpRequest, store: Store) -> str:
    """The request's path relative to the store's home ("/p/vip/")."""
    path = request.path_info
    prefix = f"/s/{store.slug}"
    if getattr(request, "host_store", None) is None and path.startswith(prefix):
        path = path[len(prefix):]
    return path or "/"


def page_context(request: HttpRequest, store: Store, shop: Shop) -> dict:
    from shopkeep.storefront import basket
    from shopkeep.storefront.views import _customer

    look = shop.look
    widgets = look.widgets
    context = {
        "shop": store, "look": look, "preview": shop.preview,
        "theme_base": shop.template("base.html"),
        "nav_pages": selectors.nav_pages(store, preview=shop.preview),
        "nav_categories": selectors.nav_categories(store) if look.options.get("category_tabs")
        else [],
        "basket_count": sum(basket.read(request, store).values()),
        "customer": _customer(request, store),
        "canonical_url": store_public_url(store, store_path(request, store)),
        "store_home_url": store_public_url(store, "/"),
        "css_version": f"{shop.row.version}{'d' if shop.preview else ''}",
        "server": (selectors.server_status(store, look)
                   if widgets["server_status"] or look.server_address else None),
    }
    if widgets["recent_purchases"]:
        context["recent_purchases"] = selectors.recent_purchases(store)
    if widgets["top_customer"]:
        context["top_customer"] = selectors.top_customer(store)
    if widgets["goal"]:
        context["goal"] = selectors.goal(store, look)
    return context


def render_page(request: HttpRequest, store: Store, template: str,
                context: dict | None = None, status: int = 200) -> HttpResponse:
    """``template`` is a theme page ("home.html") or a shared one ("storefront/x.html",
    which extends the theme's base through ``theme_base``)."""
    shop = shop_for(request, store)
    full = {**page_context(request, store, shop), **(context or {})}
    tmpl = (select_template([template]) if template.startswith("storefront/")
            else shop.template(template))
    return HttpResponse(tmpl.render(full, request), status=status)


# -- maintenance ----------------------------------------------------------------------------

def maintenance_response(request: HttpRequest, store: Store) -> HttpResponse | None:
    """The branded 503 while the store is in maintenance; None for members (they preview)
    and when the store is open."""
    shop = shop_for(request, store)
    if not shop.row.maintenance_enabled or is_member(request, store):
        return None
    response = render_page(request, store, "maintenance.html", {
        "message": shop.row.maintenance_message,
        "retry_minutes": shop.row.maintenance_retry_minutes}, status=503)
    response["Retry-After"] = str(shop.row.maintenance_retry_minutes * 60)
    response["Cache-Control"] = "no-store"
    return response


def open_store(view: Callable) -> Callable:
    """For pages closed during maintenance (browsing, basket, new checkouts)."""

    @wraps(view)
    def wrapper(request: HttpRequest, store_slug: str, *args, **kwargs) -> HttpResponse:
        store = shop_store(store_slug)
        closed = maintenance_response(request, store)
        if closed is not None:
            return closed
        return view(request, store_slug, *args, **kwargs)

    return wrapper


# -- anonymous page cache -------------------------------------------------------------------

def catalog_fingerprint(store: Store) -> str:
    """Changes whenever a product is added, edited (updated_at), deleted or sells stock, so
    cached pages never show an old price or a sold-out product as available."""
    figures = Product.objects.filter(store=store).aggregate(
        n=Count("id"), changed=Max("updated_at"), stock=Sum("stock_quantity"),
        deleted=Max("deleted_at"))
    # Sales change prices without touching products: the running ones are part of the key
    # (a sale starting or ending changes the set; an edited one its updated_at).
    now = timezone.now()
    sales = (Sale.objects.filter(store=store, is_active=True, starts_at__lte=now,
                                 ends_at__gt=now)
             .aggregate(n=Count("id"), ids=Sum("id"), changed=Max("updated_at")))
    return (f"{figures['n']}:{figures['changed']}:{figures['stock']}:{figures['deleted']}:"
            f"{sales['n']}:{sales['ids']}:{sales['changed']}")


def generation(store: Store) -> int:
    return cache.get(f"storefront-gen:{store.pk}", 0)


def invalidate(store: Store) -> None:
    """For writers whose change the fingerprint cannot see (a sale starting, a price rule):
    every cached page of the store is dropped."""
    key = f"storefront-gen:{store.pk}"
    if not cache.add(key, 1, timeout=None):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=None)


def _cacheable(request: HttpRequest) -> bool:
    # A session means a basket, a signed-in customer, a preview or a message: personal.
    return (request.method == "GET" and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not request.headers.get("HX-Request"))


def cached_page(view: Callable) -> Callable:
    """Serve anonymous GETs from the cache, keyed on everything the page shows: the store's
    settings version, the catalogue fingerprint, the explicit generation, host and path."""

    @wraps(view)
    def wrapper(request: HttpRequest, store_slug: str, *args, **kwargs) -> HttpResponse:
        if not _cacheable(request):
            return view(request, store_slug, *args, **kwargs)
        store = shop_store(store_slug)
        shop = shop_for(request, store)
        raw = "|".join([str(store.pk), str(shop.row.version), str(generation(store)),
                        catalog_fingerprint(store), request.get_host(),
                        request.get_full_path()])
        key = "storefront-page:" + hashlib.sha256(raw.encode()).hexdigest()
        hit = cache.get(key)
        if hit is not None:
            response = HttpResponse(hit["body"], status=hit["status"],
                                    content_type=hit["type"])
            for name, value in hit["headers"].items():
                response[name] = value
            response["X-Shopkeep-Cache"] = "hit"
            return response
        response = view(request, store_slug, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not response.streaming:
            headers = {k: v for k, v in response.items()
                       if k in ("Retry-After", "Cache-Control", "X-Robots-Tag")}
            cache.set(key, {"body": response.content, "status": response.status_code,
                            "type": response["Content-Type"], "headers": headers},
                      PAGE_CACHE_SECONDS)
            response["X-Shopkeep-Cache"] = "miss"
        return response

    return wrapper
