"""Promotions: coupons, sales and gift cards (issue, balance, ledger, adjust)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shopkeep.catalog.models import Category, Product
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.forms_promotions import (
    CouponForm,
    CreatorCodeForm,
    GiftCardAdjustForm,
    GiftCardIssueForm,
    SaleForm,
)
from shopkeep.dashboard.views import form_error
from shopkeep.promotions import giftcards, services
from shopkeep.promotions.models import Coupon, GiftCard, Sale
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm, role_has


def _targets(request: HttpRequest) -> dict:
    return {"products": list(Product.objects.alive().filter(store=request.store)),
            "categories": list(Category.objects.filter(store=request.store))}


def _zone(request: HttpRequest) -> ZoneInfo:
    return ZoneInfo(request.store.time_zone)


def _aware(request: HttpRequest, value: datetime | None) -> datetime | None:
    """datetime-local fields carry no zone: the wall-clock time typed is read in the store's
    zone, as labelled (the form made it aware in the server's zone, which is replaced)."""
    if value is None:
        return None
    return value.replace(tzinfo=_zone(request))


def _local(request: HttpRequest, value: datetime | None) -> datetime | None:
    return value.astimezone(_zone(request)).replace(tzinfo=None) if value else None


def _can_manage(request: HttpRequest) -> bool:
    return role_has(request.membership.role, Perm.CATALOG_MANAGE)


# -- coupons ----------------------------------------------------------------------------------

def _coupon_input(request: HttpRequest, data: dict) -> services.CouponInput:
    return services.CouponInput(
        code=data["code"], kind=data["kind"], value=data["value"],
        description=data["description"], scope=data["scope"],
        product_ids=data["product_ids"], category_ids=data["category_ids"],
        min_basket=data["min_basket"] or "0", starts_at=_aware(request, data["starts_at"]),
        ends_at=_aware(request, data["ends_at"]), max_uses=data["max_uses"],
        max_uses_per_customer=data["max_uses_per_customer"],
        first_purchase_only=data["first_purchase_only"],
        combines_with_sales=data["combines_with_sales"], is_active=data["is_active"])


@store_view(Perm.CATALOG_VIEW)
def coupon_list(request: HttpRequest) -> HttpResponse:
    coupons = Coupon.objects.filter(store=request.store)
    return render(request, "dashboard/promotions/coupon_list.html", {
        "page": Paginator(coupons, 50).get_page(request.GET.get("page")),
        "can_manage": _can_manage(request), "tab": "coupons"})


def _coupon_form(request: HttpRequest, coupon: Coupon | None) -> HttpResponse:
    initial = {"kind": "percent", "scope": "basket", "is_active": True,
               "combines_with_sales": True}
    if coupon is not None:
        initial = {f: getattr(coupon, f) for f in (
            "code", "description", "kind", "value", "scope", "min_basket", "max_uses",
            "max_uses_per_customer", "first_purchase_only", "combines_with_sales",
            "is_active")}
        initial |= {"starts_at": _local(request, coupon.starts_at),
                    "ends_at": _local(request, coupon.ends_at),
                    "product_ids": [p.pk for p in coupon.products.all()],
                    "category_ids": [c.pk for c in coupon.categories.all()]}
    form = CouponForm(request.POST or None, initial=initial, **_targets(request))
    if request.method == "POST" and form.is_valid():
        actor = Actor.for_user(request.user)
        try:
            data = _coupon_input(request, form.cleaned_data)
            if coupon is None:
                coupon = services.coupon_create(store=request.store, actor=actor, data=data)
                messages.success(request, f"Coupon {coupon.code} created; buyers can enter it "
                                 "in the basket now.")
            else:
                coupon = services.coupon_update(store=request.store, actor=actor,
                                                coupon=coupon, data=data)
                messages.success(request, f"Coupon {coupon.code} saved.")
            return redirect("dashboard:coupons", store_slug=request.store.slug)
        except ServiceError as exc:
            form_error(form, exc)
    return render(request, "dashboard/promotions/coupon_form.html", {
        "form": form, "coupon": coupon, "tab": "coupons"},
        status=400 if form.errors else 200)


@store_view(Perm.CATALOG_MANAGE)
def coupon_create(request: HttpRequest) -> HttpResponse:
    return _coupon_form(request, None)


@store_view(Perm.CATALOG_MANAGE)
def coupon_edit(request: HttpRequest, coupon_id: int) -> HttpResponse:
    return _coupon_form(request, get_for_store(Coupon, request.store, pk=coupon_id))


@require_POST
@store_view(Perm.CATALOG_MANAGE)
def coupon_delete(request: HttpRequest, coupon_id: int) -> HttpResponse:
    coupon = get_for_store(Coupon, request.store, pk=coupon_id)
    services.coupon_delete(store=request.store, actor=Actor.for_user(request.user),
                           coupon=coupon)
    messages.success(request, f"Coupon {coupon.code} deleted; orders that used it keep their "
                     "discount.")
    return redirect("dashboard:coupons", store_slug=request.store.slug)


# -- sales ------------------------------------------------------------------------------------

@store_view(Perm.CATALOG_VIEW)
def sale_list(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/promotions/sale_list.html", {
        "page": Paginator(Sale.objects.filter(store=request.store), 50).get_page(
            request.GET.get("page")),
        "now": timezone.now(), "can_manage": _can_manage(request), "tab": "sales"})


def _sale_form(request: HttpRequest, sale: Sale | None) -> HttpResponse:
    initial = {"kind": "percent", "is_active": True}
    if sale is not None:
        initial = {f: getattr(sale, f) for f in ("name", "kind", "value", "all_products",
                                                 "is_active")}
        initial |= {"starts_at": _local(request, sale.starts_at),
                    "ends_at": _local(request, sale.ends_at),
                    "product_ids": [p.pk for p in sale.products.all()],
                    "category_ids": [c.pk for c in sale.categories.all()]}
    form = SaleForm(request.POST or None, initial=initial, **_targets(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        sale_input = services.SaleInput(
            name=data["name"], kind=data["kind"], value=data["value"],
            starts_at=_aware(request, data["starts_at"]),
            ends_at=_aware(request, data["ends_at"]), all_products=data["all_products"],
            product_ids=data["product_ids"], category_ids=data["category_ids"],
            is_active=data["is_active"])
        actor = Actor.for_user(request.user)
        try:
            if sale is None:
                sale = services.sale_create(store=request.store, actor=actor, data=sale_input)
            else:
                sale = services.sale_update(store=request.store, actor=actor, sale=sale,
                                            data=sale_input)
            messages.success(request, f"Sale {sale.name} saved; the storefront shows it while "
                             "it runs.")
            return redirect("dashboard:sales", store_slug=request.store.slug)
        except ServiceError as exc:
            form_error(form, exc)
    return render(request, "dashboard/promotions/sale_form.html", {
        "form": form, "sale": sale, "tab": "sales"}, status=400 if form.errors else 200)


@store_view(Perm.CATALOG_MANAGE)
def sale_create(request: HttpRequest) -> HttpResponse:
    return _sale_form(request, None)


@store_view(Perm.CATALOG_MANAGE)
def sale_edit(request: HttpRequest, sale_id: int) -> HttpResponse:
    return _sale_form(request, get_for_store(Sale, request.store, pk=sale_id))


@require_POST
@store_view(Perm.CATALOG_MANAGE)
def sale_delete(request: HttpRequest, sale_id: int) -> HttpResponse:
    sale = get_for_store(Sale, request.store, pk=sale_id)
    services.sale_delete(store=request.store, actor=Actor.for_user(request.user), sale=sale)
    messages.success(request, f"Sale {sale.name} deleted.")
    return redirect("dashboard:sales", store_slug=request.store.slug)


# -- gift cards -------------------------------------------------------------------------------

@never_cache
@store_view(Perm.CATALOG_VIEW)
def gift_card_list(request: HttpRequest) -> HttpResponse:
    form = GiftCardIssueForm(request.POST or None)
    issued = None
    if request.method == "POST":
        if not _can_manage(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                issued = giftcards.gift_card_issue(
                    store=request.store, actor=Actor.for_user(request.user),
                    amount=form.cleaned_data["amount"], note=form.cleaned_data["note"],
                    recipient_email=form.cleaned_data["recipient_email"])
            except ServiceError as exc:
                form_error(form, exc)
            else:
                form = GiftCardIssueForm()
    return render(request, "dashboard/promotions/gift_card_list.html", {
        "page": Paginator(GiftCard.objects.filter(store=request.store), 50).get_page(
            request.GET.get("page")),
        "form": form, "issued": issued, "can_manage": _can_manage(request),
        "tab": "gift_cards"}, status=400 if form.errors else 200)


@store_view(Perm.CATALOG_VIEW)
def gift_card_detail(request: HttpRequest, card_id: int) -> HttpResponse:
    card = get_for_store(GiftCard, request.store, pk=card_id)
    form = GiftCardAdjustForm(request.POST or None)
    if request.method == "POST":
        if not _can_manage(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                row = giftcards.gift_card_adjust(
                    store=request.store, actor=Actor.for_user(request.user), card=card,
                    amount=form.cleaned_data["amount"],
                    direction=form.cleaned_data["direction"], note=form.cleaned_data["note"])
            except ServiceError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"Balance is now {row.balance_after} "
                                 f"{card.currency}.")
                return redirect("dashboard:gift_card_detail", store_slug=request.store.slug,
                                card_id=card.pk)
    return render(request, "dashboard/promotions/gift_card_detail.html", {
        "card": card, "form": form, "ledger": card.ledger.all()[:200],
        "can_manage": _can_manage(request), "tab": "gift_cards"},
        status=400 if form.errors else 200)


@require_POST
@store_view(Perm.CATALOG_MANAGE)
def gift_card_disable(request: HttpRequest, card_id: int) -> HttpResponse:
    card = get_for_store(GiftCard, request.store, pk=card_id)
    giftcards.gift_card_disable(store=request.store, actor=Actor.for_user(request.user),
                                card=card)
    messages.success(request, f"Gift card {card.masked_code} disabled; it can no longer be "
                     "spent.")
    return redirect("dashboard:gift_card_detail", store_slug=request.store.slug,
                    card_id=card.pk)


# -- creator codes ----------------------------------------------------------------------------

def _period(request: HttpRequest) -> tuple[datetime | None, datetime | None, str, str]:
    """``?since=YYYY-MM-DD&until=YYYY-MM-DD`` as whole days in the store's zone (until is
    inclusive)."""
    from datetime import date, timedelta

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(request.GET.get(name, "")[:10])
        except ValueError:
            return None

    since, until = day("since"), day("until")
    zone = _zone(request)
    start = datetime.combine(since, datetime.min.time(), zone) if since else None
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), zone) if until \
        else None
    return start, end, since.isoformat() if since else "", until.isoformat() if until else ""


@store_view(Perm.CATALOG_VIEW)
def creator_codes(request: HttpRequest) -> HttpResponse:
    import csv

    from shopkeep.orders.creator_report import creator_report
    from shopkeep.promotions import creators
    from shopkeep.promotions.models import CreatorCode

    form = CreatorCodeForm(request.POST or None)
    if request.method == "POST":
        if not _can_manage(request):
            raise PermissionDenied
        if form.is_valid():
            from shopkeep.promotions.coupons import normalise_code

            existing = CreatorCode.objects.filter(
                store=request.store, code=normalise_code(form.cleaned_data["code"])).first()
            try:
                row = creators.creator_code_save(store=request.store,
                                                 actor=Actor.for_user(request.user),
                                                 creator=existing, **form.cleaned_data)
            except ServiceError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"Creator code {row.code} saved; buyers can enter it "
                                 "at checkout.")
                return redirect("dashboard:creator_codes", store_slug=request.store.slug)
    since, until, since_text, until_text = _period(request)
    report = creator_report(store=request.store, since=since, until=until)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="creator-codes-{since_text or "start"}-'
            f'{until_text or "now"}.csv"')
        writer = csv.writer(response)
        writer.writerow(["code", "name", "orders", f"revenue_{request.store.currency}",
                         "share_percent", f"share_{request.store.currency}"])
        for line in report:
            # A leading = + - @ would be a formula in a spreadsheet: names are owner-typed.
            name = f"'{line.name}" if line.name[:1] in "=+-@" else line.name
            writer.writerow([line.code, name, line.orders, line.revenue, line.share_percent,
                             line.share])
        return response
    return render(request, "dashboard/promotions/creator_codes.html", {
        "form": form, "report": report, "since": since_text, "until": until_text,
        "codes": CreatorCode.objects.filter(store=request.store),
        "can_manage": _can_manage(request), "tab": "creators"},
        status=400 if form.errors else 200)
