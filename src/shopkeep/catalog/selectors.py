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


SIGNIN_PROVIDERS = ("discord", "steam")


def required_signins(product: Product) -> frozenset[str]:
    """The sign-ins (``"discord"``, ``"steam"``) a buyer needs before this product can be
    checked out: the ones the owner ticked. Delivery kinds that address a provider's account
    (a Discord role) add theirs here, so every checkout path asks one function."""
    required = set()
    if product.requires_discord_signin:
        required.add("discord")
    if product.requires_steam_signin:
        required.add("steam")
    return frozenset(required)
