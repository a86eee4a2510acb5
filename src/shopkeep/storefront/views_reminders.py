"""The two links in an abandoned-basket reminder: back to the basket, and no more reminders.

Both carry a signed token (``notifications/scheduled.py``), so neither needs the buyer to sign
in, and neither says anything about an order or an address to someone without the link."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt

from shopkeep.notifications.kinds import ABANDONED
from shopkeep.notifications.models import EmailUnsubscribe
from shopkeep.notifications.scheduled import BASKET_SALT, UNSUBSCRIBE_SALT
from shopkeep.orders.models import Order
from shopkeep.storefront import basket
from shopkeep.storefront.shop import open_store, render_page, shop_store

TOKEN_MAX_AGE = 30 * 24 * 3600


def _load(token: str, salt: str, store_id: int) -> dict:
    try:
        data = signing.loads(token, salt=salt, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise Http404("That link is not valid here.") from None
    if not isinstance(data, dict) or data.get("s") != store_id:
        raise Http404("That link is not valid here.")
    return data


@open_store
def basket_restore(request: HttpRequest, store_slug: str, token: str) -> HttpResponse:
    """Put the left order's items back in this browser's basket (only what is still on sale),
    then show the basket: the buyer checks out again at today's prices."""
    store = shop_store(store_slug)
    data = _load(token, BASKET_SALT, store.pk)
    order = Order.objects.filter(store=store, pk=data.get("o")).first()
    if order is None:
        raise Http404("That link is not valid here.")
    if order.paid_at is not None:
        messages.info(request, f"Order {order.order_number} is paid already; thank you.")
        return redirect("storefront:order", store_slug=store.slug, access_key=order.access_key)
    missing = []
    for item in order.items.select_related("product"):
        product = item.product
        if product.deleted_at is not None or not product.is_active or not product.in_stock:
            missing.append(item.product_name)
            continue
        basket.set_quantity(request, store, product, item.quantity, add=False)
    if missing:
        messages.warning(request, "No longer available: " + ", ".join(missing) + ".")
    else:
        messages.success(request, "Your basket is back as you left it.")
    return redirect("storefront:basket", store_slug=store.slug)


@csrf_exempt  # RFC 8058 one-click: the mail provider POSTs without a page; the token is the key
def email_unsubscribe(request: HttpRequest, store_slug: str, token: str) -> HttpResponse:
    store = shop_store(store_slug)
    data = _load(token, UNSUBSCRIBE_SALT, store.pk)
    email = str(data.get("e") or "").lower()
    if not email or data.get("k") != ABANDONED:
        raise Http404("That link is not valid here.")
    done = False
    if request.method == "POST":
        try:
            with transaction.atomic():
                EmailUnsubscribe.objects.create(store=store, email=email, kind=ABANDONED)
        except IntegrityError:
            pass  # unsubscribed already: the same answer
        done = True
    else:
        done = EmailUnsubscribe.objects.filter(store=store, email=email,
                                               kind=ABANDONED).exists()
    return render_page(request, store, "storefront/unsubscribe.html",
                       {"email": email, "done": done})
