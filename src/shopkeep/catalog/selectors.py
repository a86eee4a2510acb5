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


_COMMANDS = DeliveryAction.Kind.COMMANDS
_ROLE = DeliveryAction.Kind.DISCORD_ROLE


def actions(*, product: Product, trigger: str) -> QuerySet[DeliveryAction]:
    """The game-command actions of one trigger (Discord roles: ``discord_role_actions``)."""
    return DeliveryAction.objects.filter(product=product, trigger=trigger, kind=_COMMANDS)


def actions_by_trigger(*, product: Product) -> dict[str, list[DeliveryAction]]:
    grouped: dict[str, list[DeliveryAction]] = {t: [] for t in DeliveryAction.Trigger.values}
    for action in DeliveryAction.objects.filter(product=product, kind=_COMMANDS):
        grouped[action.trigger].append(action)
    return grouped


def discord_role_actions(*, product: Product) -> dict[str, DeliveryAction]:
    """The product's Discord role actions by trigger (at most one each)."""
    return {a.trigger: a for a in DeliveryAction.objects.filter(product=product, kind=_ROLE)}


def gives_discord_role(*, product: Product) -> bool:
    """Buying it adds a Discord role: checkout needs the buyer's Discord account."""
    return DeliveryAction.objects.filter(product=product, kind=_ROLE,
                                         trigger=DeliveryAction.Trigger.PURCHASE).exists()


SIGNIN_PROVIDERS = ("discord", "steam")


def owner_required_signins(product: Product) -> frozenset[str]:
    """The sign-ins the owner ticked on the product (every checkout path enforces them)."""
    required = set()
    if product.requires_discord_signin:
        required.add("discord")
    if product.requires_steam_signin:
        required.add("steam")
    return frozenset(required)


def required_signins(product: Product) -> frozenset[str]:
    """The sign-ins (``"discord"``, ``"steam"``) a buyer needs before this product can be
    checked out: the ones the owner ticked, and Discord for a product that gives a Discord
    role (the role is assigned to the account signed in). Every checkout path asks here."""
    required = set(owner_required_signins(product))
    if gives_discord_role(product=product):
        required.add("discord")
    return frozenset(required)
