from __future__ import annotations

from django.db.models import QuerySet

from shopkeep.catalog.models import Category, DeliveryAction, Product
from shopkeep.stores.models import Store


def categories(*, store: Store) -> QuerySet[Category]:
    return Category.objects.filter(store=store)


def products(*, store: Store, active: bool | None = None,
             category_id: int | None = None) -> QuerySet[Product]:
    qs = Product.objects.alive().filter(store=store).select_related("category")
    if active is not None:
        qs = qs.filter(is_active=active)
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    return qs


def actions(*, product: Product, trigger: str) -> QuerySet[DeliveryAction]:
    return DeliveryAction.objects.filter(product=product, trigger=trigger)


def actions_by_trigger(*, product: Product) -> dict[str, list[DeliveryAction]]:
    grouped: dict[str, list[DeliveryAction]] = {t: [] for t in DeliveryAction.Trigger.values}
    for action in DeliveryAction.objects.filter(product=product):
        grouped[action.trigger].append(action)
    return grouped
