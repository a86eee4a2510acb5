"""Writes to categories, products and delivery actions; product writes emit their events."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from shopkeep.catalog.models import Category, DeliveryAction, Product
from shopkeep.catalog.payloads import (
    product_changes,
    product_created_data,
    product_deleted_data,
    product_snapshot,
    product_updated_data,
)
from shopkeep.catalog.placeholders import clean_commands
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.money import InvalidAmount, parse_amount
from shopkeep.core.text import clean_line, has_control_chars, render_markdown
from shopkeep.core.uploads import check_download, check_image
from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.limits import limit_check
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_DESCRIPTION = 20_000


def _slug(value: str, fallback_from: str) -> str:
    slug = (value or "").strip().lower() or slugify(fallback_from)[:100]
    if not slug or len(slug) > 100 or not SLUG_RE.match(slug):
        raise ServiceError("invalid_slug", "The slug must be lower-case letters, digits and "
                           "single dashes.", field="slug")
    return slug


def _name(value: str, *, max_length: int) -> str:
    if has_control_chars(value or ""):
        raise ServiceError("invalid_name", "The name cannot contain control characters.",
                           field="name")
    name = clean_line(value, max_length=max_length + 1)
    if not name:
        raise ServiceError("invalid_name", "A name is required.", field="name")
    if len(name) > max_length:
        raise ServiceError("invalid_name", f"The name can have at most {max_length} "
                           "characters.", field="name")
    return name


# -- categories -------------------------------------------------------------------------------

@transaction.atomic
def category_create(*, store: Store, actor: Actor, name: str, slug: str = "",
                    description: str = "", sort_order: int = 0) -> Category:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    name = _name(name, max_length=100)
    slug = _slug(slug, name)
    if Category.objects.filter(store=store, slug=slug).exists():
        raise Conflict("slug_taken", f"A category already uses the slug {slug!r}.", field="slug")
    category = Category.objects.create(store=store, name=name, slug=slug,
                                       description=(description or "")[:2000],
                                       sort_order=sort_order)
    audit_record(store=store, actor=actor, action="category.created", obj=category,
                 details={"name": name})
    return category


@transaction.atomic
def category_update(*, store: Store, actor: Actor, category: Category, name: str, slug: str,
                    description: str = "", sort_order: int = 0) -> Category:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    category = Category.objects.select_for_update().get(pk=category.pk, store=store)
    name = _name(name, max_length=100)
    slug = _slug(slug, name)
    if Category.objects.filter(store=store, slug=slug).exclude(pk=category.pk).exists():
        raise Conflict("slug_taken", f"A category already uses the slug {slug!r}.", field="slug")
    category.name, category.slug = name, slug
    category.description, category.sort_order = (description or "")[:2000], sort_order
    category.save()
    audit_record(store=store, actor=actor, action="category.updated", obj=category,
                 details={"name": name})
    return category


@transaction.atomic
def category_delete(*, store: Store, actor: Actor, category: Category) -> None:
    """Products of the category stay, uncategorised."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    # Look up inside the store first: a foreign category must not leave an audit row here.
    category = Category.objects.get(pk=category.pk, store=store)
    audit_record(store=store, actor=actor, action="category.deleted", obj=category,
                 details={"name": category.name})
    category.delete()


# -- products ---------------------------------------------------------------------------------

@dataclass
class ProductInput:
    """Everything a product form or API body sets; validated by ``_apply``."""

    name: str
    price: Decimal | str
    slug: str = ""
    description: str = ""
    type: str = Product.Type.DIGITAL
    category_id: int | None = None
    billing_interval: str = ""
    trial_days: int = 0
    is_active: bool = True
    is_featured: bool = False
    stock_enabled: bool = False
    stock_quantity: int | None = None
    sort_order: int = 0
    requires_discord_signin: bool = False
    requires_steam_signin: bool = False


def _apply(store: Store, product: Product, data: ProductInput) -> None:
    product.name = _name(data.name, max_length=120)
    product.slug = _slug(data.slug, product.name)
    if len(data.description or "") > MAX_DESCRIPTION:
        raise ServiceError("invalid_description", f"The description can have at most "
                           f"{MAX_DESCRIPTION} characters.", field="description")
    product.description = data.description or ""
    product.description_html = render_markdown(product.description)
    try:
        product.price = parse_amount(data.price, product.currency)
    except InvalidAmount as exc:
        raise ServiceError("invalid_price", f"Price: {exc}.", field="price") from None
    if data.type not in Product.Type.values:
        raise ServiceError("invalid_type", f"Unknown product type {data.type!r}.", field="type")
    product.type = data.type
    if product.type == Product.Type.SUBSCRIPTION:
        if data.billing_interval not in Product.Interval.values:
            raise ServiceError("invalid_interval", "A subscription needs a billing interval: "
                               "week, month or year.", field="billing_interval")
        if product.price == 0:
            raise ServiceError("invalid_price", "A subscription cannot be free.", field="price")
        if not 0 <= int(data.trial_days) <= 365:
            raise ServiceError("invalid_trial", "A trial lasts 0 to 365 days.",
                               field="trial_days")
        product.billing_interval, product.trial_days = data.billing_interval, int(data.trial_days)
    else:
        product.billing_interval, product.trial_days = "", 0
    if data.category_id is not None:
        category = Category.objects.filter(store=store, pk=data.category_id).first()
        if category is None:
            # Same message for a foreign and a missing category: ids of other stores stay hidden.
            raise ServiceError("invalid_category", "No such category.", field="category_id")
        product.category = category
    else:
        product.category = None
    product.is_active, product.is_featured = bool(data.is_active), bool(data.is_featured)
    product.requires_discord_signin = bool(data.requires_discord_signin)
    product.requires_steam_signin = bool(data.requires_steam_signin)
    product.sort_order = int(data.sort_order)
    product.stock_enabled = bool(data.stock_enabled)
    if product.stock_enabled:
        if data.stock_quantity is None or int(data.stock_quantity) < 0:
            raise ServiceError("invalid_stock", "Give a stock quantity of 0 or more, or turn "
                               "stock tracking off.", field="stock_quantity")
        product.stock_quantity = int(data.stock_quantity)
    else:
        product.stock_quantity = None


def _save_unique(product: Product) -> None:
    clash = Product.objects.alive().filter(store=product.store, slug=product.slug)
    if product.pk:
        clash = clash.exclude(pk=product.pk)
    if clash.exists():
        raise Conflict("slug_taken", f"A product already uses the slug {product.slug!r}.",
                       field="slug")
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise Conflict("slug_taken", f"A product already uses the slug {product.slug!r}.",
                       field="slug") from None


@transaction.atomic
def product_create(*, store: Store, actor: Actor, data: ProductInput,
                   image: UploadedFile | None = None,
                   download: UploadedFile | None = None) -> Product:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    limit_check(store=store, resource="products",
                count=Product.objects.filter(store=store, deleted_at__isnull=True).count)
    product = Product(store=store, currency=store.currency)
    _apply(store, product, data)
    if image is not None:
        product.image = check_image(image)
    if download is not None:
        product.download = check_download(download)
    _save_unique(product)
    emit(store=store, event_type="product.created", data=product_created_data(product))
    audit_record(store=store, actor=actor, action="product.created", obj=product,
                 details={"name": product.name})
    return product


@transaction.atomic
def product_update(*, store: Store, actor: Actor, product: Product, data: ProductInput,
                   image: UploadedFile | None = None,
                   download: UploadedFile | None = None) -> Product:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    product = Product.objects.alive().select_for_update().get(pk=product.pk, store=store)
    before = product_snapshot(product)
    _apply(store, product, data)
    if image is not None:
        product.image = check_image(image)
    if download is not None:
        product.download = check_download(download)
    changes = product_changes(before, product_snapshot(product))
    if not changes and image is None and download is None:
        return product
    product.updated_at = timezone.now()
    _save_unique(product)
    emit(store=store, event_type="product.updated", data=product_updated_data(product, changes))
    audit_record(store=store, actor=actor, action="product.updated", obj=product,
                 details={"changes": changes})
    return product


@transaction.atomic
def product_delete(*, store: Store, actor: Actor, product: Product) -> Product:
    """Soft delete: orders keep pointing at the row; the storefront and API lists drop it."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    updated = Product.objects.alive().filter(pk=product.pk, store=store).update(
        deleted_at=timezone.now(), is_active=False)
    product.refresh_from_db()
    if updated:
        emit(store=store, event_type="product.deleted", data=product_deleted_data(product))
        audit_record(store=store, actor=actor, action="product.deleted", obj=product,
                     details={"name": product.name})
    return product


# -- delivery actions -------------------------------------------------------------------------

MAX_JOIN_DELAY = 600


@dataclass
class ActionInput:
    commands: list[str]
    require_online: bool = False
    repeat_per_quantity: bool = False
    safe_to_repeat: bool = False
    delay_after_join: int = 0
    all_servers: bool = True
    server_ids: list[int] = field(default_factory=list)


def _chosen_servers(store: Store, action: ActionInput) -> list:
    if action.all_servers:
        return []
    wanted = set(action.server_ids)
    if not wanted:
        raise ServiceError("invalid_action", "Choose at least one server, or all servers.",
                           field="server_ids")
    # The server model belongs to the delivery app, above this one: reach it through the
    # relation instead of importing it.
    server_model = DeliveryAction.servers.rel.model
    servers = list(server_model.objects.filter(store=store, removed_at__isnull=True,
                                               pk__in=wanted))
    if len(servers) != len(wanted):
        raise ServiceError("invalid_action", "Unknown server.", field="server_ids")
    return servers


@transaction.atomic
def delivery_actions_set(*, store: Store, actor: Actor, product: Product, trigger: str,
                         actions: list[ActionInput]) -> list[DeliveryAction]:
    """Replace the product's actions for one trigger (the command editor saves a whole tab)."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    if trigger not in DeliveryAction.Trigger.values:
        raise ServiceError("invalid_trigger", f"Unknown notification type {trigger!r}.",
                           field="trigger")
    product = Product.objects.alive().select_for_update().get(pk=product.pk, store=store)
    rows: list[DeliveryAction] = []
    targets: list[list] = []
    for index, action in enumerate(actions):
        commands = clean_commands(action.commands)
        if not commands:
            continue
        if action.require_online and trigger != DeliveryAction.Trigger.PURCHASE:
            # Seed 001: refund, chargeback and cancel commands execute immediately.
            raise ServiceError("invalid_action", "Only purchase commands can wait for the "
                               "player to be online.", field="require_online")
        if not 0 <= action.delay_after_join <= MAX_JOIN_DELAY:
            raise ServiceError("invalid_action", "The delay after joining is 0 to "
                               f"{MAX_JOIN_DELAY} seconds.", field="delay_after_join")
        if action.delay_after_join and not action.require_online:
            raise ServiceError("invalid_action", "A delay after joining needs \"Wait until the "
                               "player is online\".", field="delay_after_join")
        targets.append(_chosen_servers(store, action))
        rows.append(DeliveryAction(store=store, product=product, trigger=trigger,
                                   commands=commands, require_online=action.require_online,
                                   repeat_per_quantity=action.repeat_per_quantity,
                                   safe_to_repeat=action.safe_to_repeat,
                                   delay_after_join=action.delay_after_join,
                                   all_servers=action.all_servers, sort_order=index))
    # Only game commands: the product's Discord roles are set by shopkeep.discord.services.
    DeliveryAction.objects.filter(product=product, trigger=trigger,
                                  kind=DeliveryAction.Kind.COMMANDS).delete()
    for row, servers in zip(rows, targets, strict=True):
        row.save()  # one by one: each needs its id for the server choice
        if servers:
            row.servers.set(servers)
    audit_record(store=store, actor=actor, action="product.delivery_actions_set", obj=product,
                 details={"trigger": trigger, "commands": [r.commands for r in rows],
                          "servers": [[s.pk for s in t] or "all" for t in targets]})
    return rows
