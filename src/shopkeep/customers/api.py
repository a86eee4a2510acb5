from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers import selectors, services
from shopkeep.customers.models import Customer
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["customers"])


class CustomerOut(Schema):
    id: int
    email: str
    name: str
    country: str
    player_name: str
    minecraft_uuid: str
    steam_id: str
    steam_username: str
    discord_id: str
    discord_username: str
    steam_linked: bool = Field(description="The Steam id came from a Steam sign-in")
    discord_linked: bool = Field(description="The Discord id came from a Discord sign-in")
    referral_code: str
    referred_by_customer_id: int | None = Field(None, alias="referred_by_id")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_steam_linked(obj) -> bool:
        return obj.steam_linked_at is not None

    @staticmethod
    def resolve_discord_linked(obj) -> bool:
        return obj.discord_linked_at is not None


class CustomerUpdateIn(Schema):
    player_name: str = Field(..., max_length=32)
    name: str = Field("", max_length=150)
    country: str = Field("", max_length=2)
    minecraft_uuid: str = Field("", max_length=36)
    steam_id: str = Field("", max_length=17)
    steam_username: str = Field("", max_length=64)
    discord_id: str = Field("", max_length=20)
    discord_username: str = Field("", max_length=64)


@router.get("/customers", response=list[CustomerOut], auth=scope("customers:read"))
@paginate(PagePagination)
def customer_list(request: HttpRequest, search: str = ""):
    return selectors.customers(store=request.store, search=search[:100])


@router.get("/customers/{customer_id}", response=CustomerOut, auth=scope("customers:read"))
def customer_detail(request: HttpRequest, customer_id: int):
    return get_for_store(Customer, request.store, pk=customer_id)


@router.put("/customers/{customer_id}", response=CustomerOut, auth=scope("customers:write"))
def customer_update(request: HttpRequest, customer_id: int, payload: CustomerUpdateIn):
    customer = get_for_store(Customer, request.store, pk=customer_id)
    data = services.CustomerInput(email=customer.email, **payload.dict())
    return services.customer_update(store=request.store, actor=Actor.for_token(request.api_token),
                                    customer=customer, data=data)
