"""Everything a catalog write could change in one store, to assert that a refusal wrote nothing."""

from __future__ import annotations

from shopkeep.catalog.models import Category, DeliveryAction, Product
from shopkeep.events.models import Event
from shopkeep.stores.models import AuditLog, Store


def catalog_state(store: Store) -> tuple:
    return (
        sorted(Category.objects.filter(store=store).values_list(
            "pk", "name", "slug", "description", "sort_order")),
        sorted(Product.objects.filter(store=store).values_list(
            "pk", "name", "slug", "price", "type", "billing_interval", "trial_days",
            "category_id", "is_active", "stock_quantity", "description", "deleted_at")),
        sorted(DeliveryAction.objects.filter(store=store).values_list(
            "pk", "trigger", "commands", "require_online")),
        Event.objects.filter(store=store).count(),
        AuditLog.objects.filter(store=store).count(),
    )


def events(store: Store, event_type: str | None = None) -> list[Event]:
    qs = Event.objects.filter(store=store)
    if event_type:
        qs = qs.filter(event_type=event_type)
    return list(qs)
