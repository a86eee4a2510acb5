"""Store API: bans (checkout refused by e-mail, player, UUID, Steam, Discord id or IP) and
the team's notes on a customer."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers import bans, notes
from shopkeep.customers.models import Customer, CustomerBan, CustomerNote
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["customers"])


class BanOut(Schema):
    id: int
    kind: str
    value: str
    reason: str
    public_message: str
    customer_id: int | None
    active: bool
    created_by: str
    created_at: datetime
    lifted_at: datetime | None
    lifted_by: str


class BanIn(Schema):
    kind: CustomerBan.Kind
    value: str = Field(..., min_length=1, max_length=254)
    reason: str = Field(..., min_length=1, max_length=300)
    public_message: str = Field("", max_length=300, description="What the refused buyer reads "
                                "at checkout; empty: a neutral sentence")
    customer_id: int | None = None


class CustomerBanIn(Schema):
    kinds: list[CustomerBan.Kind] = Field(
        default_factory=lambda: [k for k in CustomerBan.Kind if k != CustomerBan.Kind.IP],
        max_length=6, description="Which of the customer's identifiers; default all")
    reason: str = Field(..., min_length=1, max_length=300)
    public_message: str = Field("", max_length=300)


class LiftIn(Schema):
    note: str = Field("", max_length=300)


class NoteOut(Schema):
    id: int
    body: str
    author_label: str
    created_at: datetime


class NoteIn(Schema):
    body: str = Field(..., min_length=1, max_length=notes.MAX_NOTE)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_token(request.api_token)


@router.get("/bans", response=list[BanOut], auth=scope("customers:read"))
@paginate(PagePagination)
def ban_list(request: HttpRequest, active: bool | None = None, customer_id: int | None = None):
    qs = CustomerBan.objects.filter(store=request.store)
    if active is not None:
        qs = qs.filter(lifted_at__isnull=active)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


@router.post("/bans", response={201: BanOut}, auth=scope("customers:write"))
def ban_create(request: HttpRequest, payload: BanIn):
    """Checkout then refuses any buyer with this value (403 `customer_banned`)."""
    customer = (get_for_store(Customer, request.store, pk=payload.customer_id)
                if payload.customer_id is not None else None)
    ban = bans.ban_create(store=request.store, actor=_actor(request), kind=payload.kind,
                          value=payload.value, reason=payload.reason,
                          public_message=payload.public_message, customer=customer)
    return Status(201, ban)


@router.post("/bans/{ban_id}/lift", response=BanOut, auth=scope("customers:write"))
def ban_lift(request: HttpRequest, ban_id: int, payload: LiftIn | None = None):
    ban = get_for_store(CustomerBan, request.store, pk=ban_id)
    return bans.ban_lift(store=request.store, actor=_actor(request), ban=ban,
                         note=payload.note if payload else "")


@router.post("/customers/{customer_id}/ban", response={201: list[BanOut]},
             auth=scope("customers:write"))
def customer_ban(request: HttpRequest, customer_id: int, payload: CustomerBanIn):
    """Ban the customer's e-mail, player name, UUID, Steam and Discord ids (those it has)."""
    customer = get_for_store(Customer, request.store, pk=customer_id)
    created = bans.customer_ban(store=request.store, actor=_actor(request), customer=customer,
                                kinds=[str(k) for k in payload.kinds], reason=payload.reason,
                                public_message=payload.public_message)
    return Status(201, created)


@router.get("/customers/{customer_id}/notes", response=list[NoteOut],
            auth=scope("customers:read"))
def note_list(request: HttpRequest, customer_id: int):
    customer = get_for_store(Customer, request.store, pk=customer_id)
    return list(CustomerNote.objects.filter(customer=customer)[:200])


@router.post("/customers/{customer_id}/notes", response={201: NoteOut},
             auth=scope("customers:write"))
def note_add(request: HttpRequest, customer_id: int, payload: NoteIn):
    customer = get_for_store(Customer, request.store, pk=customer_id)
    return Status(201, notes.note_add(store=request.store, actor=_actor(request),
                                      customer=customer, body=payload.body))
