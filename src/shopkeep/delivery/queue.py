"""Turning business events into delivery commands, and commands back into item state.

Every function here runs inside the caller's transaction with the order row locked
(``select_for_update``): the commands appear if and only if the payment, refund, dispute or
cancellation that causes them commits, and two transitions of one order never interleave.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from shopkeep.catalog.models import DeliveryAction
from shopkeep.core.money import money_str
from shopkeep.customers.identity import PlayerIdentity
from shopkeep.delivery import channels, payloads
from shopkeep.delivery.models import DeliveryCommand, DeliveryLog, GameServer
from shopkeep.delivery.wakeup import notify_servers
from shopkeep.events.services import emit
from shopkeep.orders.lifecycle import order_sync
from shopkeep.orders.models import Order, OrderItem
from shopkeep.orders.payloads import order_data

Cmd = DeliveryCommand
Item = OrderItem.DeliveryStatus


def placeholder_values(order: Order, item: OrderItem,
                       identity: PlayerIdentity | None = None) -> dict[str, str]:
    """Values the agent substitutes (catalog.placeholders lists them). No e-mail address:
    commands end up in game-server logs.

    The player comes from the identity frozen at checkout (the order's, or the
    subscription's for its end), never from the customer row: a later checkout with the
    same e-mail must not redirect this order's refund or chargeback commands (issue 12).
    """
    who = identity or order.identity
    return {
        "player": who.player_name,
        "uuid": who.uuid,
        "steam_id": who.steam_id,
        "discord_id": who.discord_id,
        "quantity": str(item.quantity),
        "order_number": order.order_number,
        "order_id": str(order.pk),
        "product_name": item.product_name,
        "product_id": str(item.product_id),
        "price": money_str(item.unit_price, order.currency),
        "currency": order.currency,
        "transaction_id": order.gateway_payment_id,
    }


def _targets(action: DeliveryAction, live: list[GameServer]) -> list[GameServer]:
    if action.all_servers:
        return live
    chosen = {s.pk for s in action.servers.all()}
    return [s for s in live if s.pk in chosen]


def bump_servers(server_ids: Iterable[int]) -> None:
    """The servers' due lists changed: new ETags, and wake their long-polls on commit."""
    ids = sorted({pk for pk in server_ids if pk is not None})  # Discord commands: no server
    if ids:
        GameServer.objects.filter(pk__in=ids).update(queue_version=F("queue_version") + 1)
        notify_servers(ids)


def queue_commands(*, order: Order, trigger: str, cause: str,
                   items: Iterable[OrderItem] | None = None, actor: str = "system",
                   identity: PlayerIdentity | None = None) -> list[DeliveryCommand]:
    """One command per (item, action template, target server), repeated per unit when the
    action says so. ``cause`` makes the call idempotent: a second call with the same cause
    (a replayed gateway notice) adds nothing."""
    items = list(items if items is not None else order.items.all())
    if not items:
        return []
    live = list(GameServer.objects.alive().filter(store_id=order.store_id))
    actions = (DeliveryAction.objects.filter(product_id__in={i.product_id for i in items},
                                             trigger=trigger)
               .prefetch_related("servers").order_by("sort_order", "id"))
    by_product: dict[int, list[DeliveryAction]] = {}
    for action in actions:
        by_product.setdefault(action.product_id, []).append(action)
    command_type = Cmd.Type(trigger)
    rows: list[DeliveryCommand] = []
    for item in items:
        values = placeholder_values(order, item, identity)
        for action in by_product.get(item.product_id, []):
            if action.kind == DeliveryAction.Kind.DISCORD_ROLE:
                rows.extend(_discord_rows(order, item, action, cause, command_type, values))
                continue
            units = item.quantity if action.repeat_per_quantity else 1
            for server in _targets(action, live):
                for index, template in enumerate(action.commands):
                    for unit in range(units):
                        rows.append(Cmd(
                            store_id=order.store_id, server=server, order=order,
                            order_item=item, action=action,
                            dedupe_key=f"{cause}:{item.pk}:{action.pk}:{index}:{server.pk}:{unit}",
                            type=command_type, command=template,
                            placeholders=values,
                            require_online=action.require_online and trigger == "purchase",
                            safe_to_repeat=action.safe_to_repeat,
                            delay_after_join=(action.delay_after_join
                                              if action.require_online else 0),
                            player_name=values["player"], player_uuid=values["uuid"],
                            player_steam_id=values["steam_id"]))
    known = set(Cmd.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows])
                .values_list("dedupe_key", flat=True))
    rows = [r for r in rows if r.dedupe_key not in known]
    if not rows:
        return []
    created = Cmd.objects.bulk_create(rows)
    if not created or created[0].pk is None:  # backends that do not return ids
        created = list(Cmd.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows]))
    DeliveryLog.objects.bulk_create([
        DeliveryLog(store_id=c.store_id, command=c, kind=DeliveryLog.Kind.QUEUED,
                    message=f"{c.type} command queued", actor=actor) for c in created])
    DeliveryLog.objects.bulk_create([
        DeliveryLog(store_id=c.store_id, command=c, kind=DeliveryLog.Kind.WAITING_CLAIM,
                    message=c.last_error, actor=actor)
        for c in created if c.status == Cmd.Status.WAITING_CLAIM] + [
        DeliveryLog(store_id=c.store_id, command=c, kind=DeliveryLog.Kind.CONFIRMED,
                    message=c.output, actor=actor)
        for c in created if c.status == Cmd.Status.COMPLETED])
    bump_servers(c.server_id for c in created)
    channels.wake([c for c in created if c.status == Cmd.Status.PENDING])
    return created


def _still_granted_by(order: Order, role_id: str, user_id: str) -> str:
    """The number of another order of the store that gave this role to this account and has
    not taken it back ("" when none): a rank bought twice, one refunded, stays."""
    taken_back = Cmd.objects.filter(order_item_id=OuterRef("order_item_id"),
                                    kind=Cmd.Kind.DISCORD, discord_role_id=role_id,
                                    discord_user_id=user_id).exclude(
        type=Cmd.Type.PURCHASE).exclude(status=Cmd.Status.CANCELLED)
    other = Cmd.objects.filter(
        store_id=order.store_id, kind=Cmd.Kind.DISCORD, type=Cmd.Type.PURCHASE,
        status=Cmd.Status.COMPLETED, discord_role_id=role_id, discord_user_id=user_id,
    ).exclude(order_id=order.pk).exclude(Exists(taken_back)).select_related("order").first()
    return other.order.order_number if other else ""


NO_DISCORD_ACCOUNT = ("The buyer did not sign in with Discord at checkout; the role is "
                      "assigned when they use /claim in your Discord server with their order "
                      "number and e-mail.")


def _discord_rows(order: Order, item: OrderItem, action: DeliveryAction, cause: str,
                  command_type: str, values: dict[str, str]) -> list[DeliveryCommand]:
    """One command per role. A purchase for a buyer without a Discord account waits for
    /claim. A take-back removes only roles that were given, from the account they were
    given to (the checkout's, or the one /claim linked later)."""
    rows = []
    adding = command_type == Cmd.Type.PURCHASE
    given: dict[str, str] = {}
    if not adding:
        given = dict(Cmd.objects.filter(
            order_item=item, kind=Cmd.Kind.DISCORD, type=Cmd.Type.PURCHASE,
            status=Cmd.Status.COMPLETED).values_list("discord_role_id", "discord_user_id"))
    for role_id in action.role_ids:
        user_id = values["discord_id"] if adding else given.get(role_id, "")
        if not adding and not user_id:
            continue  # never assigned: nothing to take back
        # Another purchase still entitles this account to the role: the take-back is
        # recorded as done without asking Discord, so that purchase's own refund removes it.
        keeper = "" if adding else _still_granted_by(order, role_id, user_id)
        waiting = adding and not user_id
        verb = "add Discord role" if adding else "remove Discord role"
        rows.append(Cmd(
            store_id=order.store_id, server=None, kind=Cmd.Kind.DISCORD, order=order,
            order_item=item, action=action,
            dedupe_key=f"{cause}:{item.pk}:{action.pk}:role{role_id}",
            type=command_type, command=f"{verb} {role_id}", placeholders=values,
            safe_to_repeat=True,  # adding or removing a role twice changes nothing
            discord_user_id=user_id, discord_role_id=role_id,
            status=(Cmd.Status.WAITING_CLAIM if waiting else Cmd.Status.COMPLETED if keeper
                    else Cmd.Status.PENDING),
            completed_at=timezone.now() if keeper else None,
            output=f"role kept: order {keeper} still gives it" if keeper else "",
            last_error=NO_DISCORD_ACCOUNT if waiting else "",
            last_error_code="DISCORD_NO_ACCOUNT" if waiting else "",
            player_name=values["player"], player_uuid=values["uuid"],
            player_steam_id=values["steam_id"]))
    return rows


def cancel_open(*, order: Order, types: Iterable[str], reason: str, actor: str = "system",
                server: GameServer | None = None) -> int:
    """Cancel the order's commands of ``types`` that have not run."""
    qs = Cmd.objects.filter(order=order, type__in=list(types), status__in=Cmd.OPEN)
    if server is not None:
        qs = qs.filter(server=server)
    return _cancel(qs, reason=reason, actor=actor)


def _cancel(qs, *, reason: str, actor: str, statuses: Iterable[str] = Cmd.OPEN) -> int:
    victims = list(qs.only("pk", "store_id", "server_id", "attempt_count"))
    if not victims:
        return 0
    now = timezone.now()
    Cmd.objects.filter(pk__in=[c.pk for c in victims], status__in=list(statuses)).update(
        status=Cmd.Status.CANCELLED, cancelled_at=now, updated_at=now, execute_after=None)
    DeliveryLog.objects.bulk_create([
        DeliveryLog(store_id=c.store_id, command_id=c.pk, kind=DeliveryLog.Kind.CANCELLED,
                    message=reason[:1000], attempt=c.attempt_count, actor=actor)
        for c in victims])
    bump_servers(c.server_id for c in victims)
    return len(victims)


# -- the business events ----------------------------------------------------------------------

def on_order_paid(*, order: Order) -> list[DeliveryCommand]:
    """Purchase commands; items with nothing to run are delivered at once."""
    created = queue_commands(order=order, trigger="purchase", cause="purchase")
    refresh_order(order=order)
    return created


def on_order_refunded(*, order: Order, actor: str) -> list[DeliveryCommand]:
    """A full refund: unrun purchase commands are cancelled, then the refund commands of the
    items the player actually received are queued."""
    if order.refunded_amount < order.total:
        return []  # partial refunds take nothing back (docs/delivery.md)
    return _take_back(order=order, trigger="refund", cause="refund",
                      reason="order refunded before delivery", actor=actor)


def on_dispute_opened(*, order: Order, dispute_id: str, actor: str) -> list[DeliveryCommand]:
    return _take_back(order=order, trigger="chargeback", cause=f"chargeback-{dispute_id}",
                      reason="payment disputed before delivery", actor=actor)


def on_subscription_ended(*, order: Order, subscription_id: int,
                          identity: PlayerIdentity) -> list[DeliveryCommand]:
    """``identity``: the subscription's snapshot, frozen when it started."""
    return _take_back(order=order, trigger="subscription_cancel",
                      cause=f"subscription-{subscription_id}",
                      reason="subscription ended before delivery", actor="system",
                      identity=identity)


def on_tier_replaced(*, order: Order, item: OrderItem, cause: str,
                     actor: str) -> list[DeliveryCommand]:
    """A one-time tier upgraded to a higher one: its purchase commands that have not run are
    cancelled and its refund commands (the owner's "take the rank away") are queued, before
    the caller queues the higher tier's purchase commands."""
    received = _received(item)
    reason = "upgraded to a higher tier before delivery"
    _cancel(Cmd.objects.filter(order_item=item, type=Cmd.Type.PURCHASE, status__in=Cmd.OPEN),
            reason=reason, actor=actor)
    created = (queue_commands(order=order, trigger="refund", cause=cause, items=[item],
                              actor=actor) if received else [])
    refresh_order(order=order, emit_events=False)
    return created


def _take_back(*, order: Order, trigger: str, cause: str, reason: str,
               actor: str, identity: PlayerIdentity | None = None) -> list[DeliveryCommand]:
    # Decided before cancelling: a purchase awaiting review may have run, so its item counts
    # as received and gets the take-back commands (removing a perm never granted is harmless).
    received = [item for item in order.items.all() if _received(item)]
    cancel_open(order=order, types=[Cmd.Type.PURCHASE], reason=reason, actor=actor)
    _cancel(Cmd.objects.filter(order=order, type=Cmd.Type.PURCHASE,
                               status=Cmd.Status.NEEDS_REVIEW),
            reason=f"{reason}; it may have run, so the take-back commands are queued",
            actor=actor, statuses=[Cmd.Status.NEEDS_REVIEW])
    created = queue_commands(order=order, trigger=trigger, cause=cause, items=received,
                             actor=actor, identity=identity)
    refresh_order(order=order, emit_events=False)
    return created


def _received(item: OrderItem) -> bool:
    """The player got something of this item: a purchase command ran, or it had none."""
    purchase = Cmd.objects.filter(order_item=item, type=Cmd.Type.PURCHASE)
    return (not purchase.exists()
            or purchase.filter(status__in=[Cmd.Status.COMPLETED,
                                           Cmd.Status.NEEDS_REVIEW]).exists())


# -- item and order state ---------------------------------------------------------------------

def _item_status(item: OrderItem) -> str:
    statuses = set(Cmd.objects.filter(order_item=item, type=Cmd.Type.PURCHASE)
                   .values_list("status", flat=True))
    if not statuses:
        if item.delivery_status == Item.CANCELLED:
            return Item.CANCELLED  # cancelled unpaid, or refunded before anything was queued
        # Nothing to run: delivered, unless the product has purchase commands that found no
        # server (the store has none yet); that item waits for the owner.
        has_actions = DeliveryAction.objects.filter(product_id=item.product_id,
                                                    trigger="purchase").exists()
        return Item.PENDING if has_actions else Item.DELIVERED
    if Cmd.Status.FAILED in statuses:
        return Item.FAILED
    if statuses & {*Cmd.OPEN, Cmd.Status.NEEDS_REVIEW}:
        return Item.PENDING  # awaiting review is not failed: the owner has not decided yet
    if Cmd.Status.COMPLETED in statuses:
        return Item.DELIVERED
    return Item.CANCELLED


def refresh_order(*, order: Order, emit_events: bool = True, server: GameServer | None = None,
                  now: datetime | None = None) -> None:
    """Recompute the order's items from their purchase commands, then its status
    (orders/lifecycle.py); announce a full delivery once, when the last item of a paid order
    is delivered. Refunded or disputed orders keep their status while their items settle.
    """
    now = now or timezone.now()
    items = list(order.items.all())
    was_delivered = bool(items) and all(i.delivery_status == Item.DELIVERED for i in items)
    for item in items:
        status = _item_status(item)
        if status != item.delivery_status:
            item.delivery_status = status
            item.delivered_at = now if status == Item.DELIVERED else None
            item.save(update_fields=["delivery_status", "delivered_at"])
    order_sync(order=order, now=now)
    all_delivered = bool(items) and all(i.delivery_status == Item.DELIVERED for i in items)
    if not (emit_events and all_delivered and not was_delivered and order.paid_at is not None):
        return
    has_commands = Cmd.objects.filter(order=order, type=Cmd.Type.PURCHASE).exists()
    if server is None and has_commands:
        last = (Cmd.objects.filter(order=order, type=Cmd.Type.PURCHASE,
                                   status=Cmd.Status.COMPLETED)
                .select_related("server").order_by("-completed_at", "-id").first())
        server = last.server if last else None
    kinds = set(Cmd.objects.filter(order=order, type=Cmd.Type.PURCHASE)
                .values_list("kind", flat=True))
    delivery_type = ("discord" if kinds == {Cmd.Kind.DISCORD}
                     else "rcon" if has_commands
                     else "download" if all(i.product_type == "download" for i in items)
                     else "manual")
    data = payloads.completed_data(order, items, delivery_type=delivery_type, server=server,
                                   completed_at=now)
    emit(store=order.store, event_type="delivery.completed", data=data)
    emit(store=order.store, event_type="order.completed", data=order_data(order))


def announce_failure(*, order: Order, command: DeliveryCommand, now: datetime) -> None:
    refresh_order(order=order, emit_events=False, now=now)
    item = OrderItem.objects.get(pk=command.order_item_id)
    emit(store=order.store, event_type="delivery.failed", data=payloads.failed_data(
        order, [item], error=command.last_error, error_code=command.last_error_code,
        attempt_count=command.attempt_count, server=command.server, failed_at=now,
        delivery_type="discord" if command.kind == Cmd.Kind.DISCORD else "rcon"))
