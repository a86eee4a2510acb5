"""The public storefront: pages only; every write goes through a service."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopkeep.catalog.models import Category, Product
from shopkeep.core.errors import ServiceError
from shopkeep.core.middleware import DEFAULT_CSP
from shopkeep.customers.identity import STEAM_GAMES, identity_label
from shopkeep.customers.models import Customer
from shopkeep.customers.services import CustomerInput, customer_get_or_create
from shopkeep.notifications.services import email_settings
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line, order_quote
from shopkeep.payments.flows import checkout_start, order_create, subscription_cancel
from shopkeep.payments.selectors import GATEWAY_LABELS, checkout_gateways, payment_page_origins
from shopkeep.payments.upgrades import customer_by_email, upgrades_for
from shopkeep.promotions.pricing import Quote
from shopkeep.signin.config import signin_form_origins
from shopkeep.storefront import basket
from shopkeep.storefront.forms import (
    AddToBasketForm,
    CheckoutForm,
    CouponForm,
    LoginForm,
    QuantityForm,
    SignupForm,
)
from shopkeep.storefront.order_view import order_view
from shopkeep.storefront.pricing import price_display, product_delivery, product_jsonld
from shopkeep.storefront.shop import (
    cached_page,
    open_store,
    render_page,
    shop_for,
    shop_store,
)
from shopkeep.storefront.signin_session import (
    checkout_signin,
    forget_identities,
    link_pending,
)
from shopkeep.storefront.tasks import send_login_link
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from shopkeep.subscriptions.models import Subscription
from shopkeep.themes.public_urls import shop_absolute_url

LOGIN_SALT = "storefront-login"
LOGIN_MAX_AGE = 30 * 60


def _store(slug: str) -> Store:
    return shop_store(slug)


def _render(request: HttpRequest, store: Store, template: str, context: dict | None = None,
            status: int = 200) -> HttpResponse:
    """Account and support pages: shared templates inside the store's theme."""
    return render_page(request, store, f"storefront/{template}", context, status=status)


@cached_page
@open_store
def home(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    products = list(Product.objects.on_sale().filter(store=store).select_related("category"))
    prices = price_display(store=store, products=products, customer=_customer(request, store))
    for p in products:
        p.display = prices[p.pk]
    groups = [(c, [p for p in products if p.category_id == c.pk])
              for c in Category.objects.filter(store=store)]
    groups = [(c, ps) for c, ps in groups if ps]
    other = [p for p in products if p.category_id is None]
    return render_page(request, store, "home.html", {
        "featured": [p for p in products if p.is_featured], "groups": groups, "other": other,
        "product_count": len(products)})


def _same_origin(request: HttpRequest) -> bool:
    """Adding to a basket is CSRF-exempt so cached pages can carry the form without a
    per-visitor token. A forged cross-site post could still only fill a fresh basket: the
    session cookie is SameSite=Lax, so it never rides along. Browsers send Origin on every
    POST; a foreign one is refused outright anyway."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    scheme = "https" if request.is_secure() else "http"
    return origin == f"{scheme}://{request.get_host()}"


def _add(request: HttpRequest, store: Store, product: Product, quantity: int) -> str:
    if not product.in_stock:
        return f"{product.name} is out of stock."
    return basket.set_quantity(request, store, product, quantity, add=True)


@csrf_exempt
@cached_page
@open_store
def product_page(request: HttpRequest, store_slug: str, product_slug: str) -> HttpResponse:
    store = _store(store_slug)
    product = get_object_or_404(Product.objects.on_sale().select_related("category"),
                                store=store, slug=product_slug)
    product.display = price_display(store=store, products=[product],
                                    customer=_customer(request, store))[product.pk]
    form = AddToBasketForm(request.POST or None, initial={"quantity": 1})
    if request.method == "POST" and not _same_origin(request):
        return HttpResponseForbidden("Cross-site request refused.")
    if request.method == "POST" and form.is_valid():
        error = _add(request, store, product, form.cleaned_data["quantity"])
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"{product.name} is in your basket.")
            return redirect("storefront:basket", store_slug=store.slug)
    pictures = list(product.gallery.all())
    return render_page(request, store, "product.html", {
        "product": product, "form": form, "delivery": product_delivery(product),
        "pictures": pictures,
        "product_ld": product_jsonld(request, store, product, pictures=pictures)},
        status=400 if form.errors else 200)


@csrf_exempt
@require_POST
@open_store
def basket_add(request: HttpRequest, store_slug: str) -> HttpResponse:
    """The listings' add-to-basket button (product cards on the home page)."""
    store = _store(store_slug)
    if not _same_origin(request):
        return HttpResponseForbidden("Cross-site request refused.")
    try:
        product_id = int(request.POST.get("product_id", ""))
    except ValueError:
        raise Http404("No such product") from None
    product = get_object_or_404(Product.objects.on_sale(), store=store, pk=product_id)
    form = AddToBasketForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a quantity from 1 to 99.")
        return redirect("storefront:product", store_slug=store.slug, product_slug=product.slug)
    error = _add(request, store, product, form.cleaned_data["quantity"])
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{product.name} is in your basket.")
    return redirect("storefront:basket", store_slug=store.slug)


def _quote(request: HttpRequest, store: Store, lines: list, *, email: str = "",
           gift_card_code: str = "", country: str = "", region: str = "",
           vat_number: str = "") -> Quote:
    # An upgrade price is the signed-in customer's; checkout works it out again from the
    # e-mail the buyer gives (payments.flows.order_create).
    customer = _customer(request, store)
    if customer is None and email:
        customer = customer_by_email(store=store, email=email)
    found = upgrades_for(store=store, customer=customer,
                         product_ids=[line.product.pk for line in lines])
    return order_quote(store=store, lines=[Line(line.product.pk, line.quantity)
                                           for line in lines],
                       coupon_code=basket.coupon_code(request, store), email=email,
                       gift_card_code=gift_card_code, country=country[:2],
                       region=region[:64], vat_number=vat_number[:40], upgrades=found)


@open_store
def basket_page(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    if request.method == "POST" and "coupon_code" in request.POST:
        coupon_form = CouponForm(request.POST)
        code = coupon_form.cleaned_data["coupon_code"] if coupon_form.is_valid() else ""
        if request.POST.get("remove_coupon"):
            code = ""
        basket.set_coupon(request, store, code)
        lines = basket.lines(request, store)
        if code and lines:
            quote = _quote(request, store, lines)
            if quote.coupon_message:
                messages.error(request, quote.coupon_message)
                basket.set_coupon(request, store, "")
            else:
                messages.success(request, f"Code {quote.coupon_code} applied: "
                                 f"{quote.discount} {store.currency} off.")
        elif not code:
            messages.info(request, "Coupon removed.")
        return redirect("storefront:basket", store_slug=store.slug)
    if request.method == "POST":
        raw_id = request.POST.get("product_id", "")
        # int() also reads "1_0" and digits of other scripts; an id is ASCII digits.
        if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 18):
            raise Http404("No such product")
        product_id = int(raw_id)
        product = get_object_or_404(Product.objects.alive(), store=store, pk=product_id)
        form = QuantityForm(request.POST)
        if form.is_valid():
            error = basket.set_quantity(request, store, product, form.cleaned_data["quantity"],
                                        add=False)
            if error:
                messages.error(request, error)
        else:
            messages.error(request, "Enter a quantity from 0 to 99.")
        return redirect("storefront:basket", store_slug=store.slug)
    lines = basket.lines(request, store)
    quote = _quote(request, store, lines) if lines else None
    if quote is not None and quote.coupon_message:
        # The code stopped applying (basket changed, coupon used up): say so and drop it.
        messages.warning(request, quote.coupon_message)
        basket.set_coupon(request, store, "")
    return render_page(request, store, "basket.html", {
        "lines": quote.lines if quote else [], "quote": quote,
        "total": quote.total if quote else 0,
        "coupon_form": CouponForm(initial={"coupon_code": quote.coupon_code if quote else ""})})


@open_store
def checkout(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    lines = basket.lines(request, store)
    if not lines:
        messages.info(request, "Your basket is empty.")
        return redirect("storefront:home", store_slug=store.slug)
    signin = checkout_signin(request, store, [line.product for line in lines])
    signed_in = _customer(request, store)
    form = CheckoutForm(request.POST or None, player_label=identity_label(store.game),
                        initial={"email": signed_in.email, "name": signed_in.name,
                                 "player_name": signed_in.player_name} if signed_in else None,
                        steam_id=signin.verified.get("steam", {}).get("id", "")
                        if store.game in STEAM_GAMES else "",
                        gateways=[(g, GATEWAY_LABELS.get(g, g))
                                  for g in checkout_gateways(store=store)],
                        basket_reminders=email_settings(store).abandoned_basket)
    widgets = shop_for(request, store).look.widgets
    if not (widgets["recent_purchases"] or widgets["top_customer"]):
        del form.fields["show_in_widgets"]  # nothing would show the buyer: do not ask
    if request.method == "POST" and form.is_valid() and signin.missing:
        form.add_error(None, signin.missing_message)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        steam, discord = signin.verified.get("steam", {}), signin.verified.get("discord", {})
        try:
            order = order_create(
                store=store, lines=[Line(line.product.pk, line.quantity) for line in lines],
                # Steam and Discord ids only from a sign-in in this session, never typed.
                customer=CustomerInput(email=data["email"], player_name=data["player_name"],
                                       name=data["name"], country=data["country"],
                                       steam_id=steam.get("id", ""),
                                       steam_username=steam.get("username", ""),
                                       discord_id=discord.get("id", ""),
                                       discord_username=discord.get("username", ""),
                                       linked=tuple(signin.verified)),
                billing_address=form.address(),
                coupon_code=basket.coupon_code(request, store),
                gift_card_code=data.get("gift_card_code", ""),
                vat_number=data.get("vat_number", ""),
                creator_code=data.get("creator_code", ""),
                show_in_widgets=bool(data.get("show_in_widgets")),
                basket_reminder=bool(data.get("basket_reminder")),
                gateway=data.get("gateway", ""),
                buyer_ip=request.META.get("REMOTE_ADDR", ""))
        except ServiceError as exc:
            # The service names the field it refused ("player_name", "billing_address.city",
            # "items" for basket-wide rules); unknown names become a message above the form.
            field = (exc.field or "").removeprefix("billing_address.")
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            basket.clear(request, store)
            if signed_in is not None and signed_in.pk == order.customer_id:
                link_pending(request, store, signed_in)
            return _pay(request, order)
    # After a POST the totals show the tax for the billing country and VAT number typed.
    posted = request.POST if request.method == "POST" else {}
    quote = _quote(request, store, lines, country=str(posted.get("country", "")),
                   region=str(posted.get("state", "")),
                   vat_number=str(posted.get("vat_number", "")))
    return _payment_form_action(store, render_page(
        request, store, "checkout.html", {"form": form, "lines": quote.lines, "quote": quote,
                                          "total": quote.total, "signin": signin},
        status=400 if form.errors else 200))


def _payment_form_action(store: Store, response: HttpResponse, *,
                         payment: bool = True) -> HttpResponse:
    """The page's forms lead to the payment provider's hosted page, or to Discord's or Steam's
    sign-in, through a redirect, which browsers check against this page's ``form-action``:
    name the providers, nothing else."""
    origins = [*(payment_page_origins(store=store) if payment else []),
               *signin_form_origins(store)]
    if origins:
        policy = DEFAULT_CSP.replace("form-action 'self'",
                                     "form-action 'self' " + " ".join(origins))
        response["Content-Security-Policy"] = policy
    return response


def _pay(request: HttpRequest, order: Order) -> HttpResponse:
    status_url = shop_absolute_url(
        request, reverse("storefront:order", args=[order.store.slug, order.access_key]))
    try:
        url = checkout_start(order=order, success_url=status_url, cancel_url=status_url)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(status_url)
    return redirect(url)


def order_status(request: HttpRequest, store_slug: str, access_key: str) -> HttpResponse:
    store = _store(store_slug)
    order = get_object_or_404(Order, store=store, access_key=access_key)
    if request.method == "POST":
        if order.status != Order.Status.PENDING or order.paid_at is not None:
            messages.info(request, "This order is not waiting for a payment.")
            return redirect(request.path)
        return _pay(request, order)
    response = _payment_form_action(store, render_page(request, store, "order.html",
                                                       order_view(order)))
    # The address is the capability: no link on this page may leak it (the template also
    # carries the <meta> form, for browsers that follow only one of the two).
    response["Referrer-Policy"] = "no-referrer"
    return response


IMAGE_NAME = re.compile(r"^[0-9a-f]{24}\.(png|jpg|gif|webp)$")
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def product_image(request: HttpRequest, name: str) -> FileResponse:
    """Product images are public; only names the upload check produced are served, so no
    path outside ``product-images/`` (and no download) can be reached through here."""
    match = IMAGE_NAME.match(name)
    if match is None or not default_storage.exists(f"product-images/{name}"):
        raise Http404("No such image")
    response = FileResponse(default_storage.open(f"product-images/{name}", "rb"),
                            content_type=IMAGE_TYPES[match.group(1)])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    return response


def order_download(request: HttpRequest, store_slug: str, access_key: str,
                   item_id: int) -> FileResponse:
    """A paid, not fully refunded order's download: always an attachment, never inline."""
    store = _store(store_slug)
    order = get_object_or_404(Order, store=store, access_key=access_key)
    item = get_object_or_404(order.items.select_related("product"), pk=item_id)
    if (order.paid_at is None or order.status in (Order.Status.REFUNDED, Order.Status.DISPUTED)
            or not item.product.download):
        raise Http404("No download here")
    extension = Path(item.product.download.name).suffix
    return FileResponse(item.product.download.open("rb"), as_attachment=True,
                        filename=f"{item.product.slug}{extension}",
                        content_type="application/octet-stream")


# -- customer account: sign in by e-mailed link ------------------------------------------------

def _session_key(store: Store) -> str:
    return f"customer_{store.pk}"


def _customer(request: HttpRequest, store: Store) -> Customer | None:
    customer_id = request.session.get(_session_key(store))
    if customer_id is None:
        return None
    return Customer.objects.filter(store=store, pk=customer_id).first()


LINK_INTERVAL = 60


def _send_link(request: HttpRequest, store: Store, customer: Customer) -> None:
    # One link a minute per customer: the form is public, so without this anyone could flood a
    # shopper's inbox through us. The page answers the same either way.
    if not cache.add(f"storefront-login-link:{customer.pk}", 1, timeout=LINK_INTERVAL):
        return
    token = signing.TimestampSigner(salt=LOGIN_SALT).sign_object(
        {"c": customer.pk, "s": store.pk})
    # On the host the customer is on (the store's own domain or the platform): the session
    # the link signs into lives there.
    url = shop_absolute_url(request, reverse("storefront:account_verify",
                                             args=[store.slug, token]))
    send_login_link.enqueue(to=customer.email, store_name=store.name, url=url)


def account_login(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        customer = Customer.objects.filter(store=store, email=email).first()
        if customer is not None:
            _send_link(request, store, customer)
        # The same answer for every address, so nobody learns who shops here.
        return _render(request, store, "login_sent.html", {"email": email})
    signin = checkout_signin(request, store, [])
    signin.next = reverse("storefront:account", args=[store.slug])
    return _payment_form_action(store, _render(request, store, "login.html", {
        "form": form, "signin": signin}), payment=False)


def account_signup(request: HttpRequest, store_slug: str) -> HttpResponse:
    """Create a customer account without buying. An address that already has one is sent a
    sign-in link and changed in nothing, with the same answer, so sign-up can neither reveal
    nor overwrite someone else's account."""
    store = _store(store_slug)
    form = SignupForm(request.POST or None, player_label=identity_label(store.game))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        email = data["email"].strip().lower()
        customer = Customer.objects.filter(store=store, email=email).first()
        if customer is None:
            try:
                customer, _ = customer_get_or_create(store=store, data=CustomerInput(
                    email=email, player_name=data["player_name"], name=data["name"]))
            except ServiceError as exc:
                form.add_error("player_name" if exc.field == "player_name" else None,
                               exc.message)
                return _render(request, store, "signup.html", {"form": form}, status=400)
        _send_link(request, store, customer)
        return _render(request, store, "login_sent.html", {"email": email})
    return _render(request, store, "signup.html", {"form": form},
                   status=400 if form.errors else 200)


def account_verify(request: HttpRequest, store_slug: str, token: str) -> HttpResponse:
    store = _store(store_slug)
    try:
        data = signing.TimestampSigner(salt=LOGIN_SALT).unsign_object(
            token, max_age=LOGIN_MAX_AGE)
    except signing.BadSignature:
        data = None
    customer = (Customer.objects.filter(store=store, pk=data.get("c")).first()
                if isinstance(data, dict) and data.get("s") == store.pk else None)
    if customer is None:
        messages.error(request, "That sign-in link is invalid or has expired. Ask for a new "
                       "one.")
        return redirect("storefront:account_login", store_slug=store.slug)
    request.session.cycle_key()
    request.session[_session_key(store)] = customer.pk
    link_pending(request, store, customer)
    return redirect("storefront:account", store_slug=store.slug)


def account(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    customer = _customer(request, store)
    if customer is None:
        return redirect("storefront:account_login", store_slug=store.slug)
    return _payment_form_action(store, _render(request, store, "account.html", {
        "signin": checkout_signin(request, store, []),
        "orders": customer.orders.filter(store=store).prefetch_related("items")[:100],
        "subscriptions": customer.subscriptions.filter(store=store).select_related("product"),
    }), payment=False)


@require_POST
def account_cancel_subscription(request: HttpRequest, store_slug: str,
                                subscription_id: int) -> HttpResponse:
    store = _store(store_slug)
    customer = _customer(request, store)
    if customer is None:
        return redirect("storefront:account_login", store_slug=store.slug)
    sub = get_object_or_404(Subscription, store=store, customer=customer, pk=subscription_id)
    try:
        sub = subscription_cancel(store=store, actor=Actor.system(f"customer {customer.email}"),
                                  subscription=sub, at_period_end=True, by_customer=True)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Cancelled. You keep {sub.product.name} until "
                         f"{sub.ends_at:%Y-%m-%d}.")
    return redirect("storefront:account", store_slug=store.slug)


@require_POST
def account_logout(request: HttpRequest, store_slug: str) -> HttpResponse:
    store = _store(store_slug)
    request.session.pop(_session_key(store), None)
    forget_identities(request, store)
    return redirect("storefront:home", store_slug=store.slug)


BALANCE_CHECKS = 20  # per address per BALANCE_WINDOW: the page answers whether a code exists
BALANCE_WINDOW = 600


def gift_card_balance(request: HttpRequest, store_slug: str) -> HttpResponse:
    from shopkeep.promotions.giftcards import gift_card_find
    from shopkeep.storefront.forms import GiftCardBalanceForm

    store = _store(store_slug)
    form = GiftCardBalanceForm(request.POST or None)
    card = None
    if request.method == "POST" and form.is_valid():
        key = f"gift-card-check:{store.pk}:{request.META.get('REMOTE_ADDR', '')}"
        cache.add(key, 0, timeout=BALANCE_WINDOW)
        if cache.incr(key) > BALANCE_CHECKS:
            form.add_error(None, "Too many checks from your address; try again in a few "
                           "minutes.")
            return _render(request, store, "gift_card.html", {"form": form}, status=429)
        try:
            card = gift_card_find(store=store, code=form.cleaned_data["code"])
        except ServiceError as exc:
            form.add_error("code", exc.message)
    return _render(request, store, "gift_card.html", {"form": form, "card": card},
                   status=400 if form.errors else 200)
