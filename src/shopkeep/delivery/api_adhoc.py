"""Store API: test commands on a server and manual deliveries for a customer (both through
the agent queue, with no order), and one command's state and log."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from shopkeep.catalog.models import Product
from shopkeep.core.api_inputs import Int64
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers.models import Customer
from shopkeep.delivery import adhoc, selectors
from shopkeep.delivery.api import CommandOut, CommandWithLog
from shopkeep.delivery.models import DeliveryCommand, GameServer
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["servers"])


class TestCommandIn(Schema):
    command: str = Field(..., min_length=1, max_length=501,
                         description="Without the leading slash; placeholders allowed")
    player_name: str = Field("", max_length=64, description="The test player for {player}")
    require_online: bool = False


class ManualDeliveryIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300,
                        description="Why, for the audit log (required)")
    product_id: Int64 | None = Field(None, description="Queue this product's purchase "
                                     "commands; or give server_id and command")
    quantity: int = Field(1, ge=1, le=adhoc.MAX_MANUAL_QUANTITY)
    server_id: Int64 | None = None
    command: str = Field("", max_length=501)
    require_online: bool = False


class ManualDeliveryOut(Schema):
    commands: list[CommandOut]


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_token(request.api_token)


@router.post("/servers/{server_id}/test-command", response={201: CommandOut},
             auth=scope("servers:write"))
def send_test_command(request: HttpRequest, server_id: int, payload: TestCommandIn):
    """Run one command on the server now with a test player; the agent receives it with
    `"origin": "test"`, `"test": true` and `"order": null`. Follow it with
    `GET /delivery/commands/{id}`."""
    server = get_for_store(GameServer.objects.alive(), request.store, pk=server_id)
    command = adhoc.command_send_test(store=request.store, actor=_actor(request), server=server,
                                      command=payload.command, player_name=payload.player_name,
                                      require_online=payload.require_online)
    return Status(201, command)


@router.post("/customers/{customer_id}/manual-delivery", response={201: ManualDeliveryOut},
             auth=scope("servers:write"))
def manual_delivery(request: HttpRequest, customer_id: int, payload: ManualDeliveryIn):
    """Deliver by hand to the customer's player, audited with the reason: a product's purchase
    commands (`product_id`, `quantity`), or one free-form `command` on `server_id`. No order
    and no payment are created."""
    store = request.store
    customer = get_for_store(Customer, store, pk=customer_id)
    if payload.product_id is not None:
        product = get_for_store(Product.objects.alive(), store, pk=payload.product_id)
        queued = adhoc.manual_product_deliver(store=store, actor=_actor(request),
                                              customer=customer, product=product,
                                              reason=payload.reason, quantity=payload.quantity)
        return Status(201, {"commands": queued.commands})
    if payload.server_id is None or not payload.command.strip():
        raise ServiceError("product_or_command", "Give product_id, or server_id and command.")
    server = get_for_store(GameServer.objects.alive(), store, pk=payload.server_id)
    command = adhoc.manual_command_send(store=store, actor=_actor(request), customer=customer,
                                        server=server, command=payload.command,
                                        reason=payload.reason,
                                        require_online=payload.require_online)
    return Status(201, {"commands": [command]})


@router.get("/delivery/commands/{command_id}", response=CommandWithLog,
            auth=scope("servers:read"))
def command_detail(request: HttpRequest, command_id: int):
    """Any command of the store with its delivery log (test, manual or an order's)."""
    return get_for_store(DeliveryCommand.objects.select_related("order"), request.store,
                         pk=command_id)


@router.get("/customers/{customer_id}/manual-deliveries", response=list[CommandOut],
            auth=scope("servers:read"))
def manual_deliveries(request: HttpRequest, customer_id: int):
    customer = get_for_store(Customer, request.store, pk=customer_id)
    return list(selectors.adhoc_commands(store=request.store, customer_id=customer.pk,
                                         limit=100))
