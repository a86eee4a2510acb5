"""Owner writes to coupons and sales: validated, one transaction each, with an audit row.

Promotions emit no webhook events: seed 002 has none for them, and every event type we send
is one the seed defines. The orders they touch carry the discount in their own events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from shopkeep.catalog.models import Category, Product
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.money import InvalidAmount, parse_amount
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.promotions.coupons import normalise_code
from shopkeep.promotions.models import Coupon, DiscountKind, Sale
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass
class CouponInput:
    code: str
    kind: str
    value: object
    description: str = ""
    scope: str = Coupon.Scope.BASKET
    product_ids: list[int] = field(default_factory=list)
    category_ids: list[int] = field(default_factory=list)
    min_basket: object = "0"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    max_uses_per_customer: int | None = None
    first_purchase_only: bool = False
    combines_with_sales: bool = True
    is_active: bool = True


@dataclass
class SaleInput:
    name: str
    kind: str
    value: object
    starts_at: datetime
    ends_at: datetime
    all_products: bool = False
    product_ids: list[int] = field(default_factory=list)
    category_ids: list[int] = field(default_factory=list)
    is_active: bool = True


def _discount(kind: str, value: object, currency: str) -> tuple[str, Decimal]:
    if kind not in DiscountKind.values:
        raise ServiceError("invalid_kind", "The kind is percent or fixed.", field="kind")
    try:
        amount = parse_amount(value, "USD" if kind == DiscountKind.PERCENT else currency,
                              allow_zero=False)
    except InvalidAmount as exc:
        raise ServiceError("invalid_value", f"Value: {exc}.", field="value") from None
    if kind == DiscountKind.PERCENT and amount > 100:
        raise ServiceError("invalid_value", "A percentage is at most 100.", field="value")
    return kind, amount


def _window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and timezone.is_naive(value):
            raise ServiceError("invalid_time", f"{name} needs a time zone.", field=name)
    if starts_at and ends_at and ends_at <= starts_at:
        raise ServiceError("invalid_window", "The end must be after the start.",
                           field="ends_at")


def _targets(store: Store, product_ids: list[int], category_ids: list[int]
             ) -> tuple[list[Product], list[Category]]:
    if len(product_ids) > 500 or len(category_ids) > 200:
        raise ServiceError("too_many_targets", "At most 500 products and 200 categories.")
    products = list(Product.objects.alive().filter(store=store, pk__in=set(product_ids)))
    categories = list(Category.objects.filter(store=store, pk__in=set(category_ids)))
    # A foreign or unknown id is refused the same way, naming no other store's rows.
    if len(products) != len(set(product_ids)):
        raise ServiceError("unknown_product", "A chosen product does not exist.",
                           field="product_ids")
    if len(categories) != len(set(category_ids)):
        raise ServiceError("unknown_category", "A chosen category does not exist.",
                           field="category_ids")
    return products, categories


def _clean_coupon(store: Store, data: CouponInput) -> tuple[dict, list, list]:
    code = normalise_code(data.code or "")
    if not code or len(code) < 3 or not set(code) <= CODE_CHARS:
        raise ServiceError("invalid_code", "A code is 3 to 40 letters, digits, - or _.",
                           field="code")
    kind, value = _discount(data.kind, data.value, store.currency)
    if data.scope not in Coupon.Scope.values:
        raise ServiceError("invalid_scope", "The scope is basket, products or categories.",
                           field="scope")
    try:
        min_basket = parse_amount(data.min_basket or "0", store.currency)
    except InvalidAmount as exc:
        raise ServiceError("invalid_amount", f"Minimum basket: {exc}.",
                           field="min_basket") from None
    _window(data.starts_at, data.ends_at)
    for name in ("max_uses", "max_uses_per_customer"):
        limit = getattr(data, name)
        if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 10_000_000):
            raise ServiceError("invalid_limit", f"{name} is a number from 1.", field=name)
    products, categories = _targets(store, data.product_ids, data.category_ids)
    if data.scope == Coupon.Scope.PRODUCTS and not products:
        raise ServiceError("no_targets", "Choose at least one product.", field="product_ids")
    if data.scope == Coupon.Scope.CATEGORIES and not categories:
        raise ServiceError("no_targets", "Choose at least one category.",
                           field="category_ids")
    if has_control_chars(data.description or ""):
        raise ServiceError("invalid_description", "No control characters.",
                           field="description")
    fields = {"code": code, "kind": kind, "value": value, "scope": data.scope,
              "description": clean_line(data.description or "", max_length=200),
              "min_basket": min_basket, "starts_at": data.starts_at, "ends_at": data.ends_at,
              "max_uses": data.max_uses, "max_uses_per_customer": data.max_uses_per_customer,
              "first_purchase_only": bool(data.first_purchase_only),
              "combines_with_sales": bool(data.combines_with_sales),
              "is_active": bool(data.is_active)}
    return fields, products, categories


def _save_coupon(coupon: Coupon) -> None:
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError:
        raise Conflict("code_taken", f"Another coupon already uses the code {coupon.code}.",
                       field="code") from None


@transaction.atomic
def coupon_create(*, store: Store, actor: Actor, data: CouponInput) -> Coupon:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    fields, products, categories = _clean_coupon(store, data)
    coupon = Coupon(store=store, **fields)
    _save_coupon(coupon)
    coupon.products.set(products)
    coupon.categories.set(categories)
    audit_record(store=store, actor=actor, action="coupon.created", obj=coupon,
                 details={"code": coupon.code, "kind": coupon.kind, "value": str(coupon.value)})
    return coupon


@transaction.atomic
def coupon_update(*, store: Store, actor: Actor, coupon: Coupon, data: CouponInput) -> Coupon:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk, store=store)
    fields, products, categories = _clean_coupon(store, data)
    if fields["max_uses"] is not None and fields["max_uses"] < coupon.uses_count:
        raise ServiceError("invalid_limit", f"The coupon has been used {coupon.uses_count} "
                           "times already.", field="max_uses")
    for name, value in fields.items():
        setattr(coupon, name, value)
    coupon.updated_at = timezone.now()
    _save_coupon(coupon)
    coupon.products.set(products)
    coupon.categories.set(categories)
    audit_record(store=store, actor=actor, action="coupon.updated", obj=coupon,
                 details={"code": coupon.code})
    return coupon


@transaction.atomic
def coupon_delete(*, store: Store, actor: Actor, coupon: Coupon) -> None:
    """Deleting keeps past orders' discounts: they store the code and amount themselves."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    audit_record(store=store, actor=actor, action="coupon.deleted", obj=coupon,
                 details={"code": coupon.code, "uses": coupon.uses_count})
    Coupon.objects.filter(pk=coupon.pk, store=store).delete()


def _clean_sale(store: Store, data: SaleInput) -> tuple[dict, list, list]:
    if has_control_chars(data.name or ""):
        raise ServiceError("invalid_name", "No control characters.", field="name")
    name = clean_line(data.name or "", max_length=100)
    if not name:
        raise ServiceError("invalid_name", "A name is required.", field="name")
    kind, value = _discount(data.kind, data.value, store.currency)
    if data.starts_at is None or data.ends_at is None:
        raise ServiceError("invalid_window", "A sale needs a start and an end.",
                           field="ends_at")
    _window(data.starts_at, data.ends_at)
    products, categories = _targets(store, data.product_ids, data.category_ids)
    if not data.all_products and not products and not categories:
        raise ServiceError("no_targets", "Choose products, categories or the whole store.",
                           field="product_ids")
    fields = {"name": name, "kind": kind, "value": value, "starts_at": data.starts_at,
              "ends_at": data.ends_at, "all_products": bool(data.all_products),
              "is_active": bool(data.is_active)}
    return fields, products, categories


@transaction.atomic
def sale_create(*, store: Store, actor: Actor, data: SaleInput) -> Sale:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    fields, products, categories = _clean_sale(store, data)
    sale = Sale.objects.create(store=store, **fields)
    sale.products.set(products)
    sale.categories.set(categories)
    audit_record(store=store, actor=actor, action="sale.created", obj=sale,
                 details={"name": sale.name, "kind": sale.kind, "value": str(sale.value)})
    return sale


@transaction.atomic
def sale_update(*, store: Store, actor: Actor, sale: Sale, data: SaleInput) -> Sale:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    sale = Sale.objects.select_for_update().get(pk=sale.pk, store=store)
    fields, products, categories = _clean_sale(store, data)
    for name, value in fields.items():
        setattr(sale, name, value)
    sale.updated_at = timezone.now()
    sale.save()
    sale.products.set(products)
    sale.categories.set(categories)
    audit_record(store=store, actor=actor, action="sale.updated", obj=sale,
                 details={"name": sale.name})
    return sale


@transaction.atomic
def sale_delete(*, store: Store, actor: Actor, sale: Sale) -> None:
    """Orders already created keep the sale price they were created with."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    audit_record(store=store, actor=actor, action="sale.deleted", obj=sale,
                 details={"name": sale.name})
    Sale.objects.filter(pk=sale.pk, store=store).delete()
