"""Store API: the store's customer tickets (it is the support side) and its own platform
tickets (it is the requester). Attachments are listed with signed, expiring URLs."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from shopkeep.core.errors import ServiceError
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor
from shopkeep.support import selectors, services
from shopkeep.support.attachments import signed_url
from shopkeep.support.models import Attachment, Kind, Message, Priority, Status, Ticket
from shopkeep.support.redaction import notice_for
from shopkeep.support.services import Side

router = Router(tags=["support"])


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return signed_url(obj)


class MessageOut(Schema):
    id: int
    author: str
    author_name: str = Field(..., alias="author_label")
    message: str = Field(..., alias="body")
    internal: bool
    redactions: list[str]
    redaction_notice: str
    attachments: list[AttachmentOut]
    created_at: datetime

    @staticmethod
    def resolve_redaction_notice(obj: Message) -> str:
        return notice_for(obj.redactions)

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Attachment]:
        return list(obj.attachments.all())


class TicketOut(Schema):
    id: int
    subject: str
    category: str
    priority: str
    status: str
    status_label: str
    customer_id: int | None
    customer_email: str
    customer_name: str
    order_id: int | None
    order_number: str | None
    created_at: datetime
    updated_at: datetime
    last_response_at: datetime | None
    last_response_by: str
    closed_at: datetime | None

    @staticmethod
    def resolve_status_label(obj: Ticket) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_order_number(obj: Ticket) -> str | None:
        return obj.order.order_number if obj.order_id else None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(obj: Ticket) -> list[Message]:
        return obj.visible_messages


class PlatformTicketOut(Schema):
    id: int
    subject: str
    category: str
    priority: str
    status: str
    status_label: str
    plan: str
    created_at: datetime
    updated_at: datetime
    last_response_at: datetime | None
    last_response_by: str
    closed_at: datetime | None

    @staticmethod
    def resolve_status_label(obj: Ticket) -> str:
        return obj.get_status_display()


class PlatformTicketDetailOut(PlatformTicketOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(obj: Ticket) -> list[Message]:
        return obj.visible_messages


class ReplyIn(Schema):
    message: str = Field(..., min_length=1, max_length=20_000)
    internal: bool = False


class StatusIn(Schema):
    status: str = Field(..., max_length=32)
    message: str = Field("", max_length=20_000)


class PlatformTicketIn(Schema):
    subject: str = Field(..., min_length=1, max_length=200)
    category: str = Field(..., max_length=32)
    priority: str = Field(Priority.NORMAL, max_length=16)
    description: str = Field(..., min_length=1, max_length=20_000)
    urgent_confirmed: bool = False


class CloseIn(Schema):
    message: str = Field("", max_length=20_000)


class ReopenIn(Schema):
    message: str = Field(..., min_length=1, max_length=20_000)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_token(request.api_token)


def _ticket(request: HttpRequest, kind: str, ticket_id: int) -> Ticket:
    return get_for_store(Ticket.objects.filter(kind=kind).select_related("order", "store"),
                         request.store, pk=ticket_id)


# -- customer tickets ---------------------------------------------------------------------

@router.get("/tickets", response=list[TicketOut], auth=scope("tickets:read"),
            summary="Customer tickets; `group` is open, in_progress, waiting (for the store), "
                    "waiting_requester (for the customer) or closed")
@paginate(PagePagination)
def ticket_list(request: HttpRequest, group: str = "", search: str = ""):
    return selectors.store_ticket_list(store=request.store, kind=Kind.CUSTOMER,
                                       group=group[:32], query=search[:100])


@router.get("/tickets/{ticket_id}", response=TicketDetailOut, auth=scope("tickets:read"))
def ticket_detail(request: HttpRequest, ticket_id: int):
    ticket = _ticket(request, Kind.CUSTOMER, ticket_id)
    ticket.visible_messages = list(selectors.visible_messages(ticket, include_internal=True))
    return ticket


@router.post("/tickets/{ticket_id}/replies", response={201: MessageOut},
             auth=scope("tickets:write"),
             summary="Answer the customer (or add an internal note with `internal: true`)")
def ticket_reply(request: HttpRequest, ticket_id: int, payload: ReplyIn):
    ticket = _ticket(request, Kind.CUSTOMER, ticket_id)
    message = services.ticket_reply(ticket=ticket, actor=_actor(request), side=Side.SUPPORT,
                                    body=payload.message, internal=payload.internal)
    return HttpStatus(201, message)


@router.post("/tickets/{ticket_id}/status", response=TicketOut, auth=scope("tickets:write"),
             summary="Change the status: open, in_progress, waiting_for_customer, "
                     "waiting_for_store, or closed (with an optional final message)")
def ticket_status(request: HttpRequest, ticket_id: int, payload: StatusIn):
    ticket = _ticket(request, Kind.CUSTOMER, ticket_id)
    actor = _actor(request)
    if payload.status == Status.CLOSED:
        return services.ticket_close(ticket=ticket, actor=actor, side=Side.SUPPORT,
                                     message=payload.message)
    if payload.message:
        raise ServiceError("message_not_allowed", "Only closing or reopening takes a message; "
                           "send a reply instead.", field="message")
    if ticket.is_closed:
        ticket = services.ticket_reopen(ticket=ticket, actor=actor, side=Side.SUPPORT,
                                        message="")
    return services.ticket_set_status(ticket=ticket, actor=actor, status=payload.status)


# -- the store's own platform tickets -----------------------------------------------------

@router.get("/platform-tickets", response=list[PlatformTicketOut],
            auth=scope("tickets:read"),
            summary="The store's tickets to the platform team; `group` is open, in_progress, "
                    "waiting (for you) or closed")
@paginate(PagePagination)
def platform_ticket_list(request: HttpRequest, group: str = "", search: str = ""):
    return selectors.store_ticket_list(store=request.store, kind=Kind.PLATFORM,
                                       group=group[:32], query=search[:100],
                                       perspective="requester")


@router.get("/platform-tickets/{ticket_id}", response=PlatformTicketDetailOut,
            auth=scope("tickets:read"))
def platform_ticket_detail(request: HttpRequest, ticket_id: int):
    ticket = _ticket(request, Kind.PLATFORM, ticket_id)
    # Staff's internal notes are never part of what a store can read.
    ticket.visible_messages = list(selectors.visible_messages(ticket, include_internal=False))
    return ticket


@router.post("/platform-tickets", response={201: PlatformTicketOut},
             auth=scope("tickets:write"))
def platform_ticket_create(request: HttpRequest, payload: PlatformTicketIn):
    ticket = services.platform_ticket_create(
        store=request.store, actor=_actor(request), subject=payload.subject,
        category=payload.category, priority=payload.priority, description=payload.description,
        urgent_confirmed=payload.urgent_confirmed,
        environment={"client": "api", "user_agent": request.headers.get("User-Agent", "")})
    return HttpStatus(201, ticket)


@router.post("/platform-tickets/{ticket_id}/replies", response={201: MessageOut},
             auth=scope("tickets:write"))
def platform_ticket_reply(request: HttpRequest, ticket_id: int, payload: ReplyIn):
    ticket = _ticket(request, Kind.PLATFORM, ticket_id)
    if payload.internal:
        raise ServiceError("internal_not_allowed", "Stores cannot write internal notes.",
                           field="internal", status=403)
    return HttpStatus(201, services.ticket_reply(ticket=ticket, actor=_actor(request),
                                                 side=Side.REQUESTER, body=payload.message))


@router.post("/platform-tickets/{ticket_id}/close", response=PlatformTicketOut,
             auth=scope("tickets:write"))
def platform_ticket_close(request: HttpRequest, ticket_id: int, payload: CloseIn):
    ticket = _ticket(request, Kind.PLATFORM, ticket_id)
    return services.ticket_close(ticket=ticket, actor=_actor(request), side=Side.REQUESTER,
                                 message=payload.message)


@router.post("/platform-tickets/{ticket_id}/reopen", response=PlatformTicketOut,
             auth=scope("tickets:write"))
def platform_ticket_reopen(request: HttpRequest, ticket_id: int, payload: ReopenIn):
    ticket = _ticket(request, Kind.PLATFORM, ticket_id)
    return services.ticket_reopen(ticket=ticket, actor=_actor(request), side=Side.REQUESTER,
                                  message=payload.message)
