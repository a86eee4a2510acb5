"""Tier groups: the owner's ladder of ranks (VIP < MVP < Legend).

This module only keeps the ladder. What a buyer who holds a lower tier pays for a higher one,
and what runs in game when they upgrade, reaches into orders, subscriptions and delivery, so
it lives in the flow layer (``payments/upgrades.py``).

Rules a ladder keeps (checked here, so the API and the dashboard refuse the same things):
at least two tiers, each product in one group only, and one kind of product per group
(one-time ranks, or subscriptions): an upgrade's credit is either what the lower tier cost or
the unused part of its current period, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from shopkeep.catalog.models import Product
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.promotions.models import Tier, TierGroup
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

MAX_TIERS = 20
UPGRADABLE_TYPES = (Product.Type.DIGITAL, Product.Type.SUBSCRIPTION)


@dataclass
class TierGroupInput:
    name: str
    product_ids: list[int] = field(default_factory=list)  # lowest first
    description: str = ""


def _clean(store: Store, data: TierGroupInput, group: TierGroup | None) -> tuple[dict, list]:
    if has_control_chars(data.name or "") or has_control_chars(data.description or ""):
        raise ServiceError("invalid_name", "No control characters.", field="name")
    name = clean_line(data.name or "", max_length=100)
    if not name:
        raise ServiceError("invalid_name", "A name is required.", field="name")
    ids = list(data.product_ids or [])
    if len(ids) < 2:
        raise ServiceError("too_few_tiers", "A tier group needs at least two products, the "
                           "lowest first.", field="product_ids")
    if len(ids) > MAX_TIERS:
        raise ServiceError("too_many_tiers", f"A tier group holds at most {MAX_TIERS} "
                           "products.", field="product_ids")
    if len(set(ids)) != len(ids):
        raise ServiceError("duplicate_tier", "A product appears twice in the ladder.",
                           field="product_ids")
    products = {p.pk: p for p in Product.objects.alive().filter(store=store, pk__in=ids)}
    if len(products) != len(ids):
        # A foreign id reads like a missing one: nothing about another store leaks.
        raise ServiceError("unknown_product", "A chosen product does not exist.",
                           field="product_ids")
    ladder = [products[pid] for pid in ids]
    if any(p.type not in UPGRADABLE_TYPES for p in ladder):
        raise ServiceError("not_upgradable", "Only one-time products and subscriptions can be "
                           "tiers (not downloads or gift cards).", field="product_ids")
    if len({p.type for p in ladder}) > 1:
        raise ServiceError("mixed_tiers", "A tier group is all one-time products or all "
                           "subscriptions.", field="product_ids")
    taken = (Tier.objects.filter(store=store, product_id__in=ids)
             .exclude(group=group).select_related("group", "product").first()
             if group is not None else
             Tier.objects.filter(store=store, product_id__in=ids)
             .select_related("group", "product").first())
    if taken is not None:
        raise Conflict("tier_taken", f"{taken.product.name} is already a tier of "
                       f"{taken.group.name}.", field="product_ids")
    return {"name": name, "description": clean_line(data.description or "",
                                                    max_length=300)}, ladder


def _save_ladder(store: Store, group: TierGroup, ladder: list[Product]) -> None:
    Tier.objects.filter(group=group).delete()
    Tier.objects.bulk_create([Tier(store=store, group=group, product=p, rank=rank)
                              for rank, p in enumerate(ladder, start=1)])


def _save(group: TierGroup) -> None:
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise Conflict("name_taken", f"Another tier group is called {group.name}.",
                       field="name") from None


@transaction.atomic
def tier_group_create(*, store: Store, actor: Actor, data: TierGroupInput) -> TierGroup:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    fields, ladder = _clean(store, data, None)
    group = TierGroup(store=store, **fields)
    _save(group)
    try:
        with transaction.atomic():
            _save_ladder(store, group, ladder)
    except IntegrityError:
        # Another group took one of these products between the check and the insert.
        raise Conflict("tier_taken", "A chosen product was just added to another tier "
                       "group.", field="product_ids") from None
    audit_record(store=store, actor=actor, action="tier_group.created", obj=group,
                 details={"name": group.name, "products": [p.pk for p in ladder]})
    return group


@transaction.atomic
def tier_group_update(*, store: Store, actor: Actor, group: TierGroup,
                      data: TierGroupInput) -> TierGroup:
    """Reordering a ladder changes future upgrades only: orders keep the credit they got."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    group = TierGroup.objects.select_for_update().get(pk=group.pk, store=store)
    fields, ladder = _clean(store, data, group)
    for name, value in fields.items():
        setattr(group, name, value)
    group.updated_at = timezone.now()
    _save(group)
    try:
        with transaction.atomic():
            _save_ladder(store, group, ladder)
    except IntegrityError:
        raise Conflict("tier_taken", "A chosen product was just added to another tier "
                       "group.", field="product_ids") from None
    audit_record(store=store, actor=actor, action="tier_group.updated", obj=group,
                 details={"name": group.name, "products": [p.pk for p in ladder]})
    return group


@transaction.atomic
def tier_group_delete(*, store: Store, actor: Actor, group: TierGroup) -> None:
    """Products stay on sale at their full price; past upgrades keep their records."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    audit_record(store=store, actor=actor, action="tier_group.deleted", obj=group,
                 details={"name": group.name})
    TierGroup.objects.filter(pk=group.pk, store=store).delete()


def tier_of(*, store: Store, product_id: int) -> Tier | None:
    return (Tier.objects.filter(store=store, product_id=product_id)
            .select_related("group").first())


def ladder_of(group: TierGroup) -> list[Tier]:
    return list(group.tiers.select_related("product").order_by("rank"))
