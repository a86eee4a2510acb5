"""Store API: game servers, their queues, the store secret, delivery settings, and the
order's delivery log with "Retry delivery"."""


from datetime import datetime

import pydantic
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.pagination import paginate

from shopkeep.core.api_inputs import Int64
from shopkeep.core.errors import ServiceError
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.delivery import selectors, services
from shopkeep.delivery.models import DeliveryCommand, GameServer
from shopkeep.orders.models import Order
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["servers"])


class ServerOut(Schema):
    id: int
    name: str
    game: str
    secret_prefix: str
    online: bool
    last_heartbeat_at: datetime | None
    agent_version: str
    online_players: list[dict]
    agent_instance: str
    duplicate_agent_warning: bool
    created_at: datetime

    @staticmethod
    def resolve_online(obj: GameServer) -> bool:
        return obj.is_online()

    @staticmethod
    def resolve_duplicate_agent_warning(obj: GameServer) -> bool:
        return obj.duplicate_warning()


class ServerIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    game: str = Field("", max_length=16)


class ServerCreated(Schema):
    server: ServerOut
    server_secret: str
    store_secret: str | None = Field(None, description="Only when this created the store's "
                                     "first secret; shown once")


class LogOut(Schema):
    kind: str
    message: str
    attempt: int
    actor: str
    created_at: datetime


class CommandOut(Schema):
    id: int
    server_id: int
    order_id: int | None
    order_number: str | None
    order_item_id: int | None
    origin: str
    customer_id: int | None
    reason: str
    type: str
    status: str
    command: str
    rendered: str
    require_online: bool
    player_name: str
    attempt_count: int
    execute_after: datetime | None
    last_error: str
    last_error_code: str
    output: str
    created_at: datetime
    completed_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None

    @staticmethod
    def resolve_order_number(obj: DeliveryCommand) -> str | None:
        return obj.order.order_number if obj.order_id else None

    @staticmethod
    def resolve_rendered(obj: DeliveryCommand) -> str:
        return obj.rendered()


class CommandWithLog(CommandOut):
    log: list[LogOut]

    @staticmethod
    def resolve_log(obj: DeliveryCommand) -> list:
        return list(obj.log.all())


class SettingsIO(Schema):
    max_attempts: int = Field(5, ge=1, le=20)
    poll_seconds: int = Field(60, ge=5, le=60)


class RetryIn(Schema):
    command_ids: list[Int64] | None = Field(None, max_length=500)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_token(request.api_token)


def _server(request: HttpRequest, server_id: int) -> GameServer:
    return get_for_store(GameServer.objects.alive(), request.store, pk=server_id)


@router.get("/servers", response=list[ServerOut], auth=scope("servers:read"))
@paginate(PagePagination)
def server_list(request: HttpRequest):
    return selectors.servers(store=request.store)


@router.post("/servers", response={201: ServerCreated}, auth=scope("servers:write"))
def server_create(request: HttpRequest, payload: ServerIn):
    server, secret, store_secret = services.server_create(
        store=request.store, actor=_actor(request), name=payload.name, game=payload.game)
    return Status(201, {"server": server, "server_secret": secret,
                        "store_secret": store_secret})


@router.get("/servers/{server_id}", response=ServerOut, auth=scope("servers:read"))
def server_detail(request: HttpRequest, server_id: int):
    return _server(request, server_id)


@router.patch("/servers/{server_id}", response=ServerOut, auth=scope("servers:write"))
def server_update(request: HttpRequest, server_id: int, payload: ServerIn):
    server = _server(request, server_id)
    return services.server_update(store=request.store, actor=_actor(request), server=server,
                                  name=payload.name, game=payload.game or server.game)


@router.delete("/servers/{server_id}", auth=scope("servers:write"))
def server_remove(request: HttpRequest, server_id: int) -> dict:
    cancelled = services.server_remove(store=request.store, actor=_actor(request),
                                       server=_server(request, server_id))
    return {"removed": True, "cancelled_commands": cancelled}


@router.post("/servers/{server_id}/rotate-secret", auth=scope("servers:write"))
def server_rotate_secret(request: HttpRequest, server_id: int) -> dict:
    secret = services.server_rotate_secret(store=request.store, actor=_actor(request),
                                           server=_server(request, server_id))
    return {"server_secret": secret}


@router.post("/servers/{server_id}/release-agent", response=ServerOut,
             auth=scope("servers:write"))
def server_release_agent(request: HttpRequest, server_id: int):
    return services.server_release_agent(store=request.store, actor=_actor(request),
                                         server=_server(request, server_id))


@router.get("/servers/{server_id}/commands", response=list[CommandOut],
            auth=scope("servers:read"))
@paginate(PagePagination)
def server_commands(request: HttpRequest, server_id: int, status: DeliveryCommand.Status |
                    None = None):
    return selectors.server_commands(server=_server(request, server_id),
                                     status=status or "")


@router.post("/store-secret/rotate", auth=scope("servers:write"))
def store_secret_rotate(request: HttpRequest) -> dict:
    """Every agent of the store needs the new secret; the old one stops at once."""
    return {"store_secret": services.store_secret_rotate(store=request.store,
                                                         actor=_actor(request))}


@router.get("/delivery/settings", response=SettingsIO, auth=scope("servers:read"))
def settings_detail(request: HttpRequest):
    return services.agent_key_for(request.store)


@router.put("/delivery/settings", response=SettingsIO, auth=scope("servers:write"))
def settings_update(request: HttpRequest, payload: SettingsIO):
    return services.delivery_settings_update(store=request.store, actor=_actor(request),
                                             max_attempts=payload.max_attempts,
                                             poll_seconds=payload.poll_seconds)


@router.get("/orders/{order_id}/deliveries", response=list[CommandWithLog],
            auth=scope("orders:read"))
def order_deliveries(request: HttpRequest, order_id: int):
    order = get_for_store(Order, request.store, pk=order_id)
    return list(selectors.order_deliveries(order=order))


@router.post("/orders/{order_id}/deliveries/retry", auth=scope("servers:write"),
             openapi_extra={"requestBody": {"required": False, "content": {
                 "application/json": {"schema": RetryIn.model_json_schema()}}}})
def order_retry(request: HttpRequest, order_id: int) -> dict:
    """Retry every failed command of the order, or only ``command_ids``. The body is optional,
    so it is read here rather than by a required body parameter."""
    command_ids = None
    if request.body.strip():
        try:
            command_ids = RetryIn.model_validate_json(request.body).command_ids
        except pydantic.ValidationError as exc:
            if exc.errors()[0]["type"] == "json_invalid":
                raise ServiceError("invalid_body", "Send {\"command_ids\": [...]} or no body.") \
                    from None
            raise ValidationError(exc.errors()) from None
        except ValueError:
            raise ServiceError("invalid_body", "Send {\"command_ids\": [...]} or no body.") \
                from None
    order = get_for_store(Order, request.store, pk=order_id)
    retried = services.commands_retry(store=request.store, actor=_actor(request), order=order,
                                      command_ids=command_ids)
    return {"retried": retried}
