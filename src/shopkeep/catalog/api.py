from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from shopkeep.catalog import selectors, services
from shopkeep.catalog.models import Category, DeliveryAction, Product
from shopkeep.catalog.placeholders import PLACEHOLDERS
from shopkeep.core.absolute import absolute_url
from shopkeep.core.money import money_str
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["catalog"])


class CategoryIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    slug: str = Field("", max_length=100)
    description: str = Field("", max_length=2000)
    sort_order: int = Field(0, ge=-10_000, le=10_000)


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    sort_order: int


class ActionIO(Schema):
    commands: list[str] = Field(..., max_length=20)
    require_online: bool = False
    repeat_per_quantity: bool = False
    safe_to_repeat: bool = Field(False, description="Running the commands twice has the effect "
                                 "of running them once: after an agent crash mid-execution they "
                                 "run again instead of waiting for review")
    delay_after_join: int = Field(0, ge=0, le=600, description="Seconds to wait after the "
                                  "player joins (require_online only)")
    all_servers: bool = True
    server_ids: list[int] = Field(default_factory=list, max_length=50,
                                  description="Target servers when all_servers is false")

    @staticmethod
    def resolve_server_ids(obj) -> list[int]:
        if isinstance(obj, dict):
            return obj.get("server_ids", [])
        return [] if obj.all_servers else [s.pk for s in obj.servers.all()]


class ProductIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    price: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)
    slug: str = Field("", max_length=120)
    description: str = Field("", max_length=20_000)
    type: Product.Type = Product.Type.DIGITAL
    category_id: int | None = None
    billing_interval: str = ""
    trial_days: int = Field(0, ge=0, le=365)
    is_active: bool = True
    is_featured: bool = False
    stock_enabled: bool = False
    stock_quantity: int | None = Field(None, ge=0, le=10_000_000)
    sort_order: int = Field(0, ge=-10_000, le=10_000)
    requires_discord_signin: bool = Field(False, description="Buyers must sign in with "
                                          "Discord before checkout.")
    requires_steam_signin: bool = Field(False, description="Buyers must sign in with Steam "
                                        "before checkout.")


class PictureOut(Schema):
    url: str
    alt_text: str
    position: int = Field(description="0 for the cover, then the gallery's order from 1")


def _picture_url(field) -> str:
    name = (getattr(field, "name", "") or "").rsplit("/", 1)[-1]
    return absolute_url(reverse("product_image", args=[name]))


class ProductOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    description_html: str
    price: str
    currency: str
    type: str
    category_id: int | None
    billing_interval: str | None
    trial_days: int
    is_active: bool
    is_featured: bool
    stock_enabled: bool
    stock_quantity: int | None
    requires_discord_signin: bool
    requires_steam_signin: bool
    required_signins: list[str] = Field(description="Sign-ins checkout asks for: the two "
                                        "flags above and what the delivery actions need.")
    images: list[PictureOut] = Field(description="The cover, then the gallery pictures in "
                                     "the owner's order (upload them in the dashboard).")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_images(obj: Product) -> list[dict]:
        cover = ([{"url": _picture_url(obj.image), "alt_text": obj.name, "position": 0}]
                 if obj.image else [])
        return cover + [{"url": _picture_url(p.image), "alt_text": p.alt_text,
                         "position": p.position} for p in obj.gallery.all()]

    @staticmethod
    def resolve_price(obj: Product) -> str:
        return money_str(obj.price, obj.currency)

    @staticmethod
    def resolve_billing_interval(obj: Product) -> str | None:
        return obj.billing_interval or None

    @staticmethod
    def resolve_required_signins(obj: Product) -> list[str]:
        return sorted(selectors.required_signins(obj))


class ActionsOut(Schema):
    trigger: str
    actions: list[ActionIO]


class PlaceholderOut(Schema):
    name: str
    description: str


def _input(payload: ProductIn) -> services.ProductInput:
    return services.ProductInput(**payload.dict())


@router.get("/categories", response=list[CategoryOut], auth=scope("products:read"))
@paginate(PagePagination)
def category_list(request: HttpRequest):
    return selectors.categories(store=request.store)


@router.post("/categories", response={201: CategoryOut}, auth=scope("products:write"))
def category_create(request: HttpRequest, payload: CategoryIn):
    return Status(201, services.category_create(store=request.store,
                                         actor=Actor.for_token(request.api_token),
                                         **payload.dict()))


@router.get("/categories/{category_id}", response=CategoryOut, auth=scope("products:read"))
def category_detail(request: HttpRequest, category_id: int):
    return get_for_store(Category, request.store, pk=category_id)


@router.put("/categories/{category_id}", response=CategoryOut, auth=scope("products:write"))
def category_update(request: HttpRequest, category_id: int, payload: CategoryIn):
    category = get_for_store(Category, request.store, pk=category_id)
    return services.category_update(store=request.store, actor=Actor.for_token(request.api_token),
                                    category=category, **payload.dict())


@router.delete("/categories/{category_id}", response={204: None}, auth=scope("products:write"))
def category_delete(request: HttpRequest, category_id: int):
    category = get_for_store(Category, request.store, pk=category_id)
    services.category_delete(store=request.store, actor=Actor.for_token(request.api_token),
                             category=category)
    return Status(204, None)


@router.get("/products", response=list[ProductOut], auth=scope("products:read"))
@paginate(PagePagination)
def product_list(request: HttpRequest, active: bool | None = None, category_id: int | None = None):
    return selectors.products(store=request.store, active=active,
                              category_id=category_id).prefetch_related("gallery")


@router.post("/products", response={201: ProductOut}, auth=scope("products:write"))
def product_create(request: HttpRequest, payload: ProductIn):
    return Status(201, services.product_create(store=request.store,
                                        actor=Actor.for_token(request.api_token),
                                        data=_input(payload)))


@router.get("/products/{product_id}", response=ProductOut, auth=scope("products:read"))
def product_detail(request: HttpRequest, product_id: int):
    return get_for_store(Product.objects.alive(), request.store, pk=product_id)


@router.put("/products/{product_id}", response=ProductOut, auth=scope("products:write"))
def product_update(request: HttpRequest, product_id: int, payload: ProductIn):
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    return services.product_update(store=request.store, actor=Actor.for_token(request.api_token),
                                   product=product, data=_input(payload))


@router.delete("/products/{product_id}", response={204: None}, auth=scope("products:write"))
def product_delete(request: HttpRequest, product_id: int):
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    services.product_delete(store=request.store, actor=Actor.for_token(request.api_token),
                            product=product)
    return Status(204, None)


@router.get("/products/{product_id}/actions/{trigger}", response=ActionsOut,
            auth=scope("products:read"))
def actions_detail(request: HttpRequest, product_id: int, trigger: DeliveryAction.Trigger):
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    return {"trigger": trigger, "actions": selectors.actions(product=product, trigger=trigger)}


@router.put("/products/{product_id}/actions/{trigger}", response=ActionsOut,
            auth=scope("products:write"))
def actions_set(request: HttpRequest, product_id: int, trigger: DeliveryAction.Trigger,
                payload: list[ActionIO]):
    product = get_for_store(Product.objects.alive(), request.store, pk=product_id)
    rows = services.delivery_actions_set(
        store=request.store, actor=Actor.for_token(request.api_token), product=product,
        trigger=trigger, actions=[services.ActionInput(**a.dict()) for a in payload])
    return {"trigger": trigger, "actions": rows}


@router.get("/placeholders", response=list[PlaceholderOut], auth=scope("products:read"))
def placeholder_list(request: HttpRequest):
    return [{"name": name, "description": text} for name, text in PLACEHOLDERS.items()]
