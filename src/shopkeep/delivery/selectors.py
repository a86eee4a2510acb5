"""Reads for the dashboard and the store API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from shopkeep.delivery.models import DeliveryCommand, DeliveryLog, GameServer
from shopkeep.orders.models import Order
from shopkeep.stores.models import Store

Cmd = DeliveryCommand


def servers(*, store: Store) -> QuerySet[GameServer]:
    return GameServer.objects.alive().filter(store=store).annotate(
        pending_count=Count("commands", filter=Q(commands__status=Cmd.Status.PENDING)),
        retrying_count=Count("commands", filter=Q(commands__status=Cmd.Status.RETRYING)),
        failed_count=Count("commands", filter=Q(commands__status=Cmd.Status.FAILED)),
        review_count=Count("commands", filter=Q(commands__status=Cmd.Status.NEEDS_REVIEW)),
    ).order_by("name", "id")  # Meta.ordering does not apply to aggregated queries


def server_commands(*, server: GameServer, status: str = "") -> QuerySet[DeliveryCommand]:
    qs = Cmd.objects.filter(server=server).select_related("order", "order_item", "product")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


@dataclass(frozen=True)
class QueueRow:
    command: DeliveryCommand
    waiting_for_player: bool  # require_online and the player is not on the server


def server_queue(*, server: GameServer, limit: int = 200) -> list[QueueRow]:
    """Open and failed commands, with whether each waits for its player (seed 001's
    ``/pixlpay queue``): online names come from the last heartbeat."""
    online = {(p.get("name") or "").lower() for p in server.online_players or []}
    rows = (Cmd.objects.filter(server=server, status__in=[*Cmd.OPEN, Cmd.Status.NEEDS_REVIEW,
                                                          Cmd.Status.FAILED])
            .select_related("order", "order_item", "product", "customer")
            .order_by("status", "id")[:limit])
    return [QueueRow(c, c.require_online and c.player_name.lower() not in online)
            for c in rows]


def recent_executions(*, server: GameServer, limit: int = 50) -> QuerySet[DeliveryLog]:
    return (DeliveryLog.objects.filter(command__server=server, kind__in=[
        DeliveryLog.Kind.CONFIRMED, DeliveryLog.Kind.FAILED, DeliveryLog.Kind.RETRY_SCHEDULED])
        .select_related("command", "command__order", "command__customer")
        .order_by("-created_at", "-id")[:limit])


def adhoc_commands(*, store: Store, server: GameServer | None = None,
                   customer_id: int | None = None, limit: int = 20) -> QuerySet[DeliveryCommand]:
    """Test and manual commands, newest first, for the server page and the customer page."""
    qs = Cmd.objects.filter(store=store, order__isnull=True)
    if server is not None:
        qs = qs.filter(server=server)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs.select_related("server", "product", "customer").order_by("-id")[:limit]


def adhoc_command(*, store: Store, command_id: int) -> DeliveryCommand:
    from shopkeep.core.tenancy import get_for_store

    return get_for_store(Cmd.objects.filter(order__isnull=True)
                         .select_related("server", "product", "customer")
                         .prefetch_related(Prefetch("log", queryset=DeliveryLog.objects.order_by(
                             "created_at", "id"))), store, pk=command_id)


def order_deliveries(*, order: Order) -> QuerySet[DeliveryCommand]:
    return (Cmd.objects.filter(order=order).select_related("server", "order_item")
            .prefetch_related(Prefetch("log", queryset=DeliveryLog.objects.order_by(
                "created_at", "id")))
            .order_by("id"))


def store_queue_counts(*, store: Store) -> dict[str, int]:
    shown = [*Cmd.OPEN, Cmd.Status.NEEDS_REVIEW, Cmd.Status.FAILED]
    rows = (Cmd.objects.filter(store=store, status__in=shown)
            .values("status").annotate(n=Count("id")))
    counts = {s: 0 for s in shown}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def duplicate_agent_servers(*, store: Store) -> list[GameServer]:
    now = timezone.now()
    return [s for s in GameServer.objects.alive().filter(store=store,
                                                         duplicate_seen_at__isnull=False)
            if s.duplicate_warning(now)]
