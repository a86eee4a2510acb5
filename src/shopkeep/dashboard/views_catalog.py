"""Products, categories and the per-product command editor."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.catalog import selectors, services
from shopkeep.catalog.models import Category, DeliveryAction, Product
from shopkeep.catalog.placeholders import PLACEHOLDERS
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.forms_catalog import ActionFormSet, CategoryForm, ProductForm
from shopkeep.dashboard.views import form_error
from shopkeep.delivery.models import GameServer
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm, role_has


def _product_input(data: dict) -> services.ProductInput:
    fields = {k: v for k, v in data.items() if k not in ("image", "download")}
    fields["stock_quantity"] = data.get("stock_quantity")
    fields["trial_days"] = data.get("trial_days") or 0
    return services.ProductInput(**fields)


@store_view(Perm.CATALOG_VIEW)
def product_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.products(store=request.store), 50).get_page(
        request.GET.get("page"))
    can_manage = role_has(request.membership.role, Perm.CATALOG_MANAGE)
    return render(request, "dashboard/catalog/product_list.html",
                  {"page": page, "can_manage": can_manage})


def _product_form_view(request: HttpRequest, product: Product | None) -> HttpResponse:
    store = request.store
    categories = list(selectors.categories(store=store))
    initial = {"type": Product.Type.DIGITAL, "is_active": True, "trial_days": 0, "sort_order": 0}
    if product is not None:
        initial = {f: getattr(product, f) for f in (
            "name", "slug", "price", "type", "billing_interval", "trial_days", "category_id",
            "description", "is_active", "is_featured", "stock_enabled", "stock_quantity",
            "sort_order", "requires_discord_signin", "requires_steam_signin")}
    form = ProductForm(request.POST or None, request.FILES or None, initial=initial,
                       categories=categories)
    if request.method == "POST" and form.is_valid():
        actor = Actor.for_user(request.user)
        image = form.cleaned_data.get("image")
        download = form.cleaned_data.get("download")
        try:
            if product is None:
                product = services.product_create(store=store, actor=actor,
                                                  data=_product_input(form.cleaned_data),
                                                  image=image, download=download)
                messages.success(request, f"Created {product.name}. Now add its commands.")
                return redirect("dashboard:product_actions", store_slug=store.slug,
                                product_id=product.pk, trigger="purchase")
            services.product_update(store=store, actor=actor, product=product,
                                    data=_product_input(form.cleaned_data), image=image,
                                    download=download)
            messages.success(request, "Product saved.")
            return redirect("dashboard:product_edit", store_slug=store.slug,
                            product_id=product.pk)
        except ServiceError as exc:
            form_error(form, exc)
    return render(request, "dashboard/catalog/product_form.html",
                  {"form": form, "product": product})


@store_view(Perm.CATALOG_MANAGE)
def product_create(request: HttpRequest) -> HttpResponse:
    return _product_form_view(request, None)


@store_view(Perm.CATALOG_MANAGE)
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    return _product_form_view(request, product)


@require_POST
@store_view(Perm.CATALOG_MANAGE)
def product_delete(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    services.product_delete(store=request.store, actor=Actor.for_user(request.user),
                            product=product)
    messages.success(request, f"Deleted {product.name}.")
    return redirect("dashboard:products", store_slug=request.store.slug)


@store_view(Perm.CATALOG_MANAGE)
def product_actions(request: HttpRequest, product_id: int, trigger: str) -> HttpResponse:
    store = request.store
    product = get_for_store(Product.objects.alive(), store, pk=product_id)
    if trigger not in DeliveryAction.Trigger.values:
        return redirect("dashboard:product_actions", store_slug=store.slug,
                        product_id=product.pk, trigger="purchase")
    existing = selectors.actions(product=product, trigger=trigger)
    initial = [{"commands": "\n".join(a.commands), "require_online": a.require_online,
                "repeat_per_quantity": a.repeat_per_quantity,
                "safe_to_repeat": a.safe_to_repeat, "delay_after_join": a.delay_after_join,
                "servers": [] if a.all_servers else [s.pk for s in a.servers.all()]}
               for a in existing]
    server_choices = [(s.pk, s.name)
                      for s in GameServer.objects.alive().filter(store=store)]
    formset = ActionFormSet(request.POST or None, initial=initial, prefix="action",
                            form_kwargs={"server_choices": server_choices})
    if request.method == "POST" and formset.is_valid():
        actions = [
            services.ActionInput(commands=(f.cleaned_data.get("commands") or "").splitlines(),
                                 require_online=bool(f.cleaned_data.get("require_online")),
                                 repeat_per_quantity=bool(
                                     f.cleaned_data.get("repeat_per_quantity")),
                                 safe_to_repeat=bool(f.cleaned_data.get("safe_to_repeat")),
                                 delay_after_join=f.cleaned_data.get("delay_after_join") or 0,
                                 all_servers=not f.cleaned_data.get("servers"),
                                 server_ids=list(f.cleaned_data.get("servers") or []))
            for f in formset.forms if f.cleaned_data
        ]
        try:
            services.delivery_actions_set(store=store, actor=Actor.for_user(request.user),
                                          product=product, trigger=trigger, actions=actions)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{DeliveryAction.Trigger(trigger).label} commands saved.")
            return redirect("dashboard:product_actions", store_slug=store.slug,
                            product_id=product.pk, trigger=trigger)
    return render(request, "dashboard/catalog/product_actions.html", {
        "product": product, "trigger": trigger, "formset": formset,
        "triggers": DeliveryAction.Trigger.choices, "placeholders": PLACEHOLDERS.items(),
    })


@store_view(Perm.CATALOG_VIEW)
def category_list(request: HttpRequest) -> HttpResponse:
    store = request.store
    can_manage = role_has(request.membership.role, Perm.CATALOG_MANAGE)
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.category_create(store=store, actor=Actor.for_user(request.user),
                                         **form.cleaned_data)
            except ServiceError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"Created {form.cleaned_data['name']}.")
                return redirect("dashboard:categories", store_slug=store.slug)
    return render(request, "dashboard/catalog/category_list.html", {
        "form": form, "categories": selectors.categories(store=store), "can_manage": can_manage})


@store_view(Perm.CATALOG_MANAGE)
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    store = request.store
    category = get_for_store(Category, store, pk=category_id)
    form = CategoryForm(request.POST or None, initial={
        "name": category.name, "slug": category.slug, "description": category.description,
        "sort_order": category.sort_order})
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(store=store, actor=Actor.for_user(request.user),
                                     category=category, **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Category saved.")
            return redirect("dashboard:categories", store_slug=store.slug)
    return render(request, "dashboard/catalog/category_form.html",
                  {"form": form, "category": category})


@require_POST
@store_view(Perm.CATALOG_MANAGE)
def category_delete(request: HttpRequest, category_id: int) -> HttpResponse:
    category = get_for_store(Category, request.store, pk=category_id)
    services.category_delete(store=request.store, actor=Actor.for_user(request.user),
                             category=category)
    messages.success(request, f"Deleted {category.name}; its products are uncategorised now.")
    return redirect("dashboard:categories", store_slug=request.store.slug)
