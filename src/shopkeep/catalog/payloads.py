"""Event ``data`` for product events, shaped exactly as seed 002's examples."""

from __future__ import annotations

from typing import Any

from shopkeep.catalog.models import Product
from shopkeep.core.money import money_str
from shopkeep.core.timefmt import iso

# Fields whose change product.updated reports, in their payload form.
TRACKED_FIELDS = (
    "name", "slug", "description", "price", "type", "category_id", "is_active", "is_featured",
    "stock_enabled", "stock_quantity", "billing_interval", "trial_days",
)


def product_snapshot(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "price": money_str(product.price, product.currency),
        "type": product.type,
        "category_id": product.category_id,
        "is_active": product.is_active,
        "is_featured": product.is_featured,
        "stock_enabled": product.stock_enabled,
        "stock_quantity": product.stock_quantity if product.stock_enabled else None,
        "billing_interval": product.billing_interval or None,
        "trial_days": product.trial_days,
    }


def product_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict]:
    return {field: {"old": before[field], "new": after[field]}
            for field in TRACKED_FIELDS if before[field] != after[field]}


def product_created_data(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.pk,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "price": money_str(product.price, product.currency),
        "currency": product.currency,
        "type": product.type,
        "category": product.category.name if product.category else None,
        "category_id": product.category_id,
        "is_active": product.is_active,
        "is_featured": product.is_featured,
        "stock_quantity": product.stock_quantity if product.stock_enabled else None,
        "stock_enabled": product.stock_enabled,
        "created_at": iso(product.created_at),
    }


def product_updated_data(product: Product, changes: dict[str, dict]) -> dict[str, Any]:
    return {
        "product_id": product.pk,
        "name": product.name,
        "slug": product.slug,
        "price": money_str(product.price, product.currency),
        "currency": product.currency,
        "is_active": product.is_active,
        "changes": changes,
        "updated_at": iso(product.updated_at),
    }


def product_deleted_data(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.pk,
        "name": product.name,
        "slug": product.slug,
        "deleted_at": iso(product.deleted_at),
    }
