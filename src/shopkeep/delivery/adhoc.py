"""Commands nobody paid for: "Send test command" on a server and the owner's manual delivery
for a customer (a free-form command, or a product's purchase commands).

They go through the same queue, agent API, leases and delivery log as paid commands, so a
test proves the real path works; they have no order (``origin`` says which kind they are),
so they never change an order's status, emit ``delivery.*`` events or count as revenue.
Each is one transaction with its audit row; the agent is woken on commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from shopkeep.catalog.models import DeliveryAction, Product
from shopkeep.catalog.placeholders import clean_commands
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.customers.identity import PlayerIdentity, identity_clean
from shopkeep.customers.models import Customer
from shopkeep.delivery import queue
from shopkeep.delivery.models import DeliveryCommand, DeliveryLog, GameServer
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

Cmd = DeliveryCommand
Origin = DeliveryCommand.Origin
MAX_REASON = 300
MAX_MANUAL_QUANTITY = 64


@dataclass(frozen=True)
class Queued:
    commands: list[DeliveryCommand]

    @property
    def count(self) -> int:
        return len(self.commands)


def _clean_command(text: str) -> str:
    if (text or "").strip().startswith("/"):
        # Consoles and RCON take commands without the chat slash; sent with it, most games
        # answer "unknown command", which is exactly what a test should not have to teach.
        text = text.strip()[1:]
    cleaned = clean_commands([text or ""])
    if not cleaned:
        raise ServiceError("invalid_command", "Type the command to run.", field="command")
    return cleaned[0]


def _clean_reason(reason: str) -> str:
    if has_control_chars(reason or ""):
        raise ServiceError("invalid_reason", "The reason cannot contain control characters.",
                           field="reason")
    reason = clean_line(reason or "", max_length=MAX_REASON)
    if not reason:
        raise ServiceError("reason_required", "Say why you are delivering by hand (it goes into "
                           "the audit log), e.g. \"compensation for the outage\".",
                           field="reason")
    return reason


def _values(store: Store, who: PlayerIdentity, *, order_number: str, product: Product | None,
            quantity: int = 1) -> dict[str, str]:
    """Every placeholder gets a value, so a template written for purchases runs unchanged."""
    return {
        "player": who.player_name, "uuid": who.uuid, "steam_id": who.steam_id,
        "discord_id": who.discord_id, "quantity": str(quantity),
        "order_number": order_number, "order_id": "",
        "product_name": product.name if product else "",
        "product_id": str(product.pk) if product else "",
        "price": "0.00", "currency": store.currency, "transaction_id": "",
    }


def _live_server(store: Store, server: GameServer) -> GameServer:
    return get_for_store(GameServer.objects.alive(), store, pk=server.pk)


def _create(*, store: Store, server: GameServer, origin: str, template: str,
            values: dict[str, str], who: PlayerIdentity, require_online: bool, actor: Actor,
            reason: str = "", customer: Customer | None = None, product: Product | None = None,
            safe_to_repeat: bool = False, delay_after_join: int = 0) -> DeliveryCommand:
    command = Cmd.objects.create(
        store=store, server=server, origin=origin, type=Cmd.Type.PURCHASE,
        dedupe_key=f"{origin}:{uuid.uuid4().hex}", command=template, placeholders=values,
        require_online=require_online and bool(who.player_name), safe_to_repeat=safe_to_repeat,
        delay_after_join=delay_after_join if require_online else 0,
        player_name=who.player_name, player_uuid=who.uuid, player_steam_id=who.steam_id,
        customer=customer, product=product, reason=reason, requested_by=actor.label)
    label = "test command" if origin == Origin.TEST else "manual command"
    DeliveryLog.objects.create(
        store=store, command=command, kind=DeliveryLog.Kind.QUEUED, actor=actor.label,
        message=f"{label} queued by {actor.label}" + (f": {reason}" if reason else ""))
    return command


@transaction.atomic
def command_send_test(*, store: Store, actor: Actor, server: GameServer, command: str,
                      player_name: str = "", require_online: bool = False) -> DeliveryCommand:
    """Seed 001's "Test Commands First": run one command on ``server`` now, with a test
    player's name in ``{player}``. Marked as a test in the agent API, the delivery log and
    the audit log; no order, no customer, no event."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    server = _live_server(store, server)
    template = _clean_command(command)
    who = (identity_clean(server.game, player_name=player_name) if (player_name or "").strip()
           else PlayerIdentity(game=server.game, player_name="", uuid="", steam_id="",
                               discord_id=""))
    if "{player}" in template and not who.player_name:
        raise ServiceError("player_required", "The command uses {player}: name a test player.",
                           field="player_name")
    values = _values(store, who, order_number="TEST", product=None)
    created = _create(store=store, server=server, origin=Origin.TEST, template=template,
                      values=values, who=who, require_online=require_online, actor=actor)
    queue.bump_servers([server.pk])
    audit_record(store=store, actor=actor, action="delivery.test_command_sent", obj=server,
                 details={"command": template, "player": who.player_name,
                          "command_id": created.pk})
    return created


@transaction.atomic
def server_command_send(*, store: Store, actor: Actor, server: GameServer, command: str,
                        reason: str, player_name: str = "") -> DeliveryCommand:
    """An ad-hoc command on a server from its page (a broadcast, a whitelist fix): through
    the queue and the agent, audited with the reason; not a test, no customer."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    server = _live_server(store, server)
    template, reason = _clean_command(command), _clean_reason(reason)
    who = (identity_clean(server.game, player_name=player_name) if (player_name or "").strip()
           else PlayerIdentity(game=server.game, player_name="", uuid="", steam_id="",
                               discord_id=""))
    if "{player}" in template and not who.player_name:
        raise ServiceError("player_required", "The command uses {player}: name the player.",
                           field="player_name")
    values = _values(store, who, order_number="MANUAL", product=None)
    created = _create(store=store, server=server, origin=Origin.MANUAL, template=template,
                      values=values, who=who, require_online=False, actor=actor,
                      reason=reason)
    queue.bump_servers([server.pk])
    audit_record(store=store, actor=actor, action="server.manual_command", obj=server,
                 details={"command": template, "reason": reason, "command_id": created.pk})
    return created


def _customer_identity(store: Store, customer: Customer) -> PlayerIdentity:
    who = PlayerIdentity(game=store.game, player_name=customer.player_name,
                         uuid=customer.minecraft_uuid, steam_id=customer.steam_id,
                         discord_id=customer.discord_id)
    if not (who.player_name or who.steam_id):
        raise ServiceError("no_identity", "This customer has no player name or Steam id yet, so "
                           "there is nobody to deliver to. Add one on their page first.",
                           field="customer")
    return who


@transaction.atomic
def manual_command_send(*, store: Store, actor: Actor, customer: Customer, server: GameServer,
                        command: str, reason: str, require_online: bool = False
                        ) -> DeliveryCommand:
    """A free-form command for the customer's player (compensation, a lost item)."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    customer = get_for_store(Customer, store, pk=customer.pk)
    server = _live_server(store, server)
    template, reason = _clean_command(command), _clean_reason(reason)
    who = _customer_identity(store, customer)
    values = _values(store, who, order_number="MANUAL", product=None)
    created = _create(store=store, server=server, origin=Origin.MANUAL, template=template,
                      values=values, who=who, require_online=require_online, actor=actor,
                      reason=reason, customer=customer)
    queue.bump_servers([server.pk])
    audit_record(store=store, actor=actor, action="customer.manual_command", obj=customer,
                 details={"command": template, "server": server.name, "reason": reason,
                          "command_id": created.pk})
    return created


@transaction.atomic
def manual_product_deliver(*, store: Store, actor: Actor, customer: Customer, product: Product,
                           reason: str, quantity: int = 1) -> Queued:
    """Queue ``product``'s purchase commands for the customer as if bought, without an order
    or a payment (a giveaway, a replacement). Targets and options are the product's own."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    customer = get_for_store(Customer, store, pk=customer.pk)
    product = get_for_store(Product.objects.filter(deleted_at__isnull=True), store,
                            pk=product.pk)
    reason = _clean_reason(reason)
    if not 1 <= quantity <= MAX_MANUAL_QUANTITY:
        raise ServiceError("invalid_quantity", f"Quantity is 1 to {MAX_MANUAL_QUANTITY}.",
                           field="quantity")
    who = _customer_identity(store, customer)
    live = list(GameServer.objects.alive().filter(store=store))
    actions = (DeliveryAction.objects.filter(product=product, trigger="purchase")
               .prefetch_related("servers").order_by("sort_order", "id"))
    values = _values(store, who, order_number="MANUAL", product=product, quantity=quantity)
    created: list[DeliveryCommand] = []
    for action in actions:
        targets = live if action.all_servers else [
            s for s in live if s.pk in {t.pk for t in action.servers.all()}]
        units = quantity if action.repeat_per_quantity else 1
        for server in targets:
            for template in action.commands:
                for _unit in range(units):
                    created.append(_create(
                        store=store, server=server, origin=Origin.MANUAL, template=template,
                        values=values, who=who, require_online=action.require_online,
                        actor=actor, reason=reason, customer=customer, product=product,
                        safe_to_repeat=action.safe_to_repeat,
                        delay_after_join=action.delay_after_join))
    if not created:
        raise ServiceError("nothing_to_deliver", f"{product.name} has no purchase commands for "
                           "a server of this store; add them in the product's command editor.",
                           field="product")
    queue.bump_servers(c.server_id for c in created)
    audit_record(store=store, actor=actor, action="customer.manual_delivery", obj=customer,
                 details={"product": product.name, "quantity": quantity, "reason": reason,
                          "commands": len(created)})
    return Queued(created)
