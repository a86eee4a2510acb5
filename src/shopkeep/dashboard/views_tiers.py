"""Promotions > Tier groups: the upgrade ladders (rules in payments/upgrades.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.catalog.models import Product
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.forms_promotions import TierGroupForm
from shopkeep.dashboard.views import form_error
from shopkeep.promotions import tiers
from shopkeep.promotions.models import TierGroup
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm, role_has


def _can_manage(request: HttpRequest) -> bool:
    return role_has(request.membership.role, Perm.CATALOG_MANAGE)


def _products(request: HttpRequest) -> list[Product]:
    return list(Product.objects.alive().filter(store=request.store,
                                               type__in=tiers.UPGRADABLE_TYPES))


@store_view(Perm.CATALOG_VIEW)
def tier_group_list(request: HttpRequest) -> HttpResponse:
    groups = (TierGroup.objects.filter(store=request.store)
              .prefetch_related("tiers__product"))
    return render(request, "dashboard/promotions/tier_group_list.html", {
        "groups": groups, "can_manage": _can_manage(request), "tab": "tiers"})


def _form(request: HttpRequest, group: TierGroup | None) -> HttpResponse:
    initial = {}
    if group is not None:
        initial = {"name": group.name, "description": group.description}
        initial |= {f"tier_{t.rank}": t.product_id for t in tiers.ladder_of(group)}
    form = TierGroupForm(request.POST or None, initial=initial, products=_products(request))
    if request.method == "POST" and form.is_valid():
        data = tiers.TierGroupInput(name=form.cleaned_data["name"],
                                    description=form.cleaned_data["description"],
                                    product_ids=form.product_ids())
        actor = Actor.for_user(request.user)
        try:
            if group is None:
                group = tiers.tier_group_create(store=request.store, actor=actor, data=data)
            else:
                group = tiers.tier_group_update(store=request.store, actor=actor, group=group,
                                                data=data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            names = " < ".join(t.product.name for t in tiers.ladder_of(group))
            messages.success(request, f"Tier group {group.name} saved ({names}); customers "
                             "who hold a lower tier now see an upgrade price.")
            return redirect("dashboard:tier_groups", store_slug=request.store.slug)
    return render(request, "dashboard/promotions/tier_group_form.html", {
        "form": form, "group": group, "tab": "tiers"}, status=400 if form.errors else 200)


@store_view(Perm.CATALOG_MANAGE)
def tier_group_create(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@store_view(Perm.CATALOG_MANAGE)
def tier_group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    return _form(request, get_for_store(TierGroup, request.store, pk=group_id))


@require_POST
@store_view(Perm.CATALOG_MANAGE)
def tier_group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_for_store(TierGroup, request.store, pk=group_id)
    tiers.tier_group_delete(store=request.store, actor=Actor.for_user(request.user),
                            group=group)
    messages.success(request, f"Tier group {group.name} deleted; its products sell at their "
                     "full price to everyone.")
    return redirect("dashboard:tier_groups", store_slug=request.store.slug)
