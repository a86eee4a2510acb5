from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.stores import selectors, services
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import ApiToken

router = Router(tags=["store"])


class StoreOut(Schema):
    id: str = Field(..., alias="public_id")
    name: str
    slug: str
    currency: str
    time_zone: str
    plan: str
    status: str
    test_mode: bool
    created_at: datetime


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    scopes: list[str] = Field(..., min_length=1, max_length=50)
    expires_at: datetime | None = None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The full key. Shown once; store it now.")


@router.get("/store", response=StoreOut, auth=scope("store:read"), summary="The token's store")
def store_detail(request: HttpRequest):
    return request.store


@router.get("/tokens", response=list[TokenOut], auth=scope("tokens:read"), tags=["tokens"])
@paginate(PagePagination)
def token_list(request: HttpRequest):
    return selectors.store_tokens(store=request.store)


@router.post("/tokens", response={201: TokenCreatedOut}, auth=scope("tokens:write"),
             tags=["tokens"])
def token_create(request: HttpRequest, payload: TokenCreateIn):
    token, raw = services.token_create(
        store=request.store, actor=Actor.for_token(request.api_token), name=payload.name,
        scopes=payload.scopes, expires_at=payload.expires_at)
    token.token = raw
    return Status(201, token)


@router.delete("/tokens/{token_id}", response=TokenOut, auth=scope("tokens:write"),
               tags=["tokens"])
def token_revoke(request: HttpRequest, token_id: int):
    token = get_for_store(ApiToken, request.store, pk=token_id)
    return services.token_revoke(store=request.store, actor=Actor.for_token(request.api_token),
                                 token=token)
