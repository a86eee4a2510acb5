"""Owner-side writes: the store secret, game servers, delivery settings, and deliberate
retries of failed commands. Keyword-only, one transaction each, with an audit row."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.ids import hash_secret, new_secret
from shopkeep.core.tenancy import NotFound, get_for_store
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.delivery import channels, queue
from shopkeep.delivery.models import AgentKey, DeliveryCommand, DeliveryLog, GameServer
from shopkeep.delivery.wakeup import notify_servers
from shopkeep.orders.models import Order
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.limits import limit_check
from shopkeep.stores.models import GAMES, Store
from shopkeep.stores.permissions import Perm

Cmd = DeliveryCommand
STORE_SECRET_PREFIX = "sks"
SERVER_SECRET_PREFIX = "srv"
MAX_SERVERS = 50


def agent_key_for(store: Store) -> AgentKey:
    key, _ = AgentKey.objects.get_or_create(store=store)
    return key


def _visible_prefix(secret: str) -> str:
    return secret[:8]


def _forget_everywhere(*, store: Store, server: GameServer | None = None) -> None:
    """Every web process caches what an idle poll needs (agentcache.py): this change to a
    secret, an agent or a setting drops it everywhere on commit (NOTIFY / in-process)."""
    if server is not None:
        notify_servers([server.pk])
    else:
        notify_servers(GameServer.objects.filter(store=store).values_list("pk", flat=True))


@transaction.atomic
def store_secret_rotate(*, store: Store, actor: Actor) -> str:
    """A new store secret; the old one stops working at once. Returns it (shown once)."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    key = AgentKey.objects.select_for_update().filter(store=store).first() or agent_key_for(store)
    secret = new_secret(STORE_SECRET_PREFIX)
    first = not key.secret_hash
    key.secret_hash, key.secret_prefix = hash_secret(secret), _visible_prefix(secret)
    key.rotated_at = timezone.now()
    key.save()
    _forget_everywhere(store=store)
    audit_record(store=store, actor=actor,
                 action="agent.store_secret_created" if first else "agent.store_secret_rotated",
                 obj=key, details={"prefix": key.secret_prefix})
    return secret


def _clean_server_fields(name: str, game: str) -> tuple[str, str]:
    if has_control_chars(name or ""):
        raise ServiceError("invalid_name", "The name cannot contain control characters.",
                           field="name")
    name = clean_line(name or "", max_length=60)
    if not name:
        raise ServiceError("invalid_name", "Give the server a name, e.g. \"Survival\".",
                           field="name")
    if game not in GAMES:
        raise ServiceError("invalid_game", "Choose one of: " + ", ".join(GAMES) + ".",
                           field="game")
    return name, game


@transaction.atomic
def server_create(*, store: Store, actor: Actor, name: str, game: str = ""
                  ) -> tuple[GameServer, str, str | None]:
    """Returns the server, its secret and, when the store had none yet, the new store secret.
    Both are shown once."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    name, game = _clean_server_fields(name, game or store.game)
    limit_check(store=store, resource="servers",
                count=GameServer.objects.alive().filter(store=store).count)
    if GameServer.objects.alive().filter(store=store).count() >= MAX_SERVERS:
        raise ServiceError("too_many_servers", f"A store has at most {MAX_SERVERS} servers.")
    store_secret = None
    if not agent_key_for(store).secret_hash:
        store_secret = store_secret_rotate(store=store, actor=actor)
    secret = new_secret(SERVER_SECRET_PREFIX)
    try:
        with transaction.atomic():
            server = GameServer.objects.create(store=store, name=name, game=game,
                                               secret_hash=hash_secret(secret),
                                               secret_prefix=_visible_prefix(secret))
    except IntegrityError:
        raise Conflict("name_taken", "Another server of this store has that name.",
                       field="name") from None
    audit_record(store=store, actor=actor, action="server.created", obj=server,
                 details={"name": name, "game": game})
    return server, secret, store_secret


@transaction.atomic
def server_update(*, store: Store, actor: Actor, server: GameServer, name: str,
                  game: str) -> GameServer:
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    server = _locked(store, server)
    name, game = _clean_server_fields(name, game)
    old = {"name": server.name, "game": server.game}
    server.name, server.game = name, game
    try:
        with transaction.atomic():
            server.save(update_fields=["name", "game"])
    except IntegrityError:
        raise Conflict("name_taken", "Another server of this store has that name.",
                       field="name") from None
    audit_record(store=store, actor=actor, action="server.updated", obj=server,
                 details={"old": old, "new": {"name": name, "game": game}})
    return server


def _locked(store: Store, server: GameServer) -> GameServer:
    return get_for_store(GameServer.objects.alive().select_for_update(), store, pk=server.pk)


@transaction.atomic
def server_rotate_secret(*, store: Store, actor: Actor, server: GameServer) -> str:
    """A new server secret; the old one stops at once and the agent lock is released, so the
    agent configured with the new secret is accepted immediately."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    server = _locked(store, server)
    secret = new_secret(SERVER_SECRET_PREFIX)
    server.secret_hash, server.secret_prefix = hash_secret(secret), _visible_prefix(secret)
    server.agent_instance, server.agent_seen_at = "", None
    server.save(update_fields=["secret_hash", "secret_prefix", "agent_instance",
                               "agent_seen_at"])
    _forget_everywhere(store=store, server=server)
    audit_record(store=store, actor=actor, action="server.secret_rotated", obj=server,
                 details={"prefix": server.secret_prefix})
    return secret


@transaction.atomic
def server_release_agent(*, store: Store, actor: Actor, server: GameServer) -> GameServer:
    """Forget the agent instance holding the server (it moved to another machine)."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    server = _locked(store, server)
    released = server.agent_instance
    server.agent_instance, server.agent_seen_at = "", None
    server.duplicate_instance, server.duplicate_seen_at = "", None
    server.save(update_fields=["agent_instance", "agent_seen_at", "duplicate_instance",
                               "duplicate_seen_at"])
    _forget_everywhere(store=store, server=server)
    audit_record(store=store, actor=actor, action="server.agent_released", obj=server,
                 details={"instance": released})
    return server


def server_remove(*, store: Store, actor: Actor, server: GameServer) -> int:
    """Soft-delete the server and cancel its commands that have not run (each cancellation is
    in the delivery log). Returns how many were cancelled."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    server = get_for_store(GameServer.objects.alive(), store, pk=server.pk)
    cancelled = 0
    # One transaction per order keeps the order-then-command lock order of every other path.
    for order_id in _open_order_ids(server):
        with transaction.atomic():
            cancelled += _cancel_for_server(order_id, server, actor)
    with transaction.atomic():
        server = _locked(store, server)
        server.removed_at = timezone.now()
        server.save(update_fields=["removed_at"])
        _forget_everywhere(store=store, server=server)
        # Commands queued between the sweep and now (a payment racing the removal).
        for order_id in _open_order_ids(server):
            cancelled += _cancel_for_server(order_id, server, actor)
        audit_record(store=store, actor=actor, action="server.removed", obj=server,
                     details={"name": server.name, "cancelled_commands": cancelled})
    return cancelled


def _open_order_ids(server: GameServer) -> list[int]:
    return list(Cmd.objects.filter(server=server, status__in=Cmd.OPEN)
                .values_list("order_id", flat=True).distinct())


def _cancel_for_server(order_id: int, server: GameServer, actor: Actor) -> int:
    """Inside the caller's transaction: lock the order, cancel its open commands on
    ``server``, settle its items."""
    order = Order.objects.select_for_update().select_related("store").get(pk=order_id)
    cancelled = queue.cancel_open(order=order, types=Cmd.Type.values,
                                  reason=f"server {server.name} removed", actor=actor.label,
                                  server=server)
    queue.refresh_order(order=order)
    return cancelled


@transaction.atomic
def delivery_settings_update(*, store: Store, actor: Actor, max_attempts: int,
                             poll_seconds: int) -> AgentKey:
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    if not 1 <= max_attempts <= 20:
        raise ServiceError("invalid_max_attempts", "Attempts are 1 to 20.",
                           field="max_attempts")
    if not 5 <= poll_seconds <= 60:
        raise ServiceError("invalid_poll_seconds", "Agents poll every 5 to 60 seconds.",
                           field="poll_seconds")
    key = agent_key_for(store)
    old = {"max_attempts": key.max_attempts, "poll_seconds": key.poll_seconds}
    key.max_attempts, key.poll_seconds = max_attempts, poll_seconds
    key.save(update_fields=["max_attempts", "poll_seconds"])
    _forget_everywhere(store=store)
    audit_record(store=store, actor=actor, action="delivery.settings_updated", obj=key,
                 details={"old": old, "new": {"max_attempts": max_attempts,
                                              "poll_seconds": poll_seconds}})
    return key


@transaction.atomic
def commands_retry(*, store: Store, actor: Actor, order: Order,
                   command_ids: list[int] | None = None) -> int:
    """"Retry delivery" (seed 000): failed commands of the order go back to pending with a
    fresh attempt budget. Cancelled and completed commands are never re-run."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    order = get_for_store(Order.objects.select_for_update().select_related("store"), store,
                          pk=order.pk)
    qs = Cmd.objects.filter(order=order, status=Cmd.Status.FAILED,
                            server__removed_at__isnull=True)
    if command_ids is not None:
        qs = qs.filter(pk__in=command_ids)
    commands = list(qs)
    if not commands:
        raise Conflict("nothing_to_retry", "This order has no failed commands to retry.")
    now = timezone.now()
    Cmd.objects.filter(pk__in=[c.pk for c in commands], status=Cmd.Status.FAILED).update(
        status=Cmd.Status.PENDING, attempt_base=F("attempt_count"), execute_after=None,
        failed_at=None, updated_at=now)
    DeliveryLog.objects.bulk_create([
        DeliveryLog(store=store, command=c, kind=DeliveryLog.Kind.REQUEUED,
                    attempt=c.attempt_count, actor=actor.label,
                    message=f"retried by {actor.label} after {c.last_error_code}")
        for c in commands])
    queue.bump_servers(c.server_id for c in commands)
    channels.wake(commands)
    queue.refresh_order(order=order)
    audit_record(store=store, actor=actor, action="delivery.retried", obj=order,
                 details={"commands": [c.pk for c in commands]})
    return len(commands)


def _review_command(store: Store, order: Order | None,
                    command_id: int) -> tuple[Order | None, DeliveryCommand]:
    """``order`` None: a test or manual command (no order); its own row is locked."""
    if order is not None:
        order = get_for_store(Order.objects.select_for_update().select_related("store"), store,
                              pk=order.pk)
        command = Cmd.objects.filter(pk=command_id, order=order, store=store).first()
    else:
        command = (Cmd.objects.select_for_update()
                   .filter(pk=command_id, order__isnull=True, store=store).first())
    if command is None:
        raise NotFound("command not found")
    if command.status != Cmd.Status.NEEDS_REVIEW:
        raise Conflict("not_awaiting_review", "This command is not awaiting review (someone "
                       "may have decided already).")
    return order, command


@transaction.atomic
def command_mark_delivered(*, store: Store, actor: Actor, order: Order | None,
                           command_id: int) -> DeliveryCommand:
    """The owner checked the game: the command whose outcome was unknown did run."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    order, command = _review_command(store, order, command_id)
    now = timezone.now()
    if not Cmd.objects.filter(pk=command.pk, status=Cmd.Status.NEEDS_REVIEW).update(
            status=Cmd.Status.COMPLETED, completed_at=now, updated_at=now, review_since=None):
        raise Conflict("not_awaiting_review", "This command is not awaiting review.")
    command.refresh_from_db()
    DeliveryLog.objects.create(store=store, command=command, kind=DeliveryLog.Kind.MARKED_DELIVERED,
                               attempt=command.attempt_count, actor=actor.label,
                               message=f"marked delivered by {actor.label} after "
                                       f"{command.last_error_code}")
    queue.bump_servers([command.server_id])
    if command.type == Cmd.Type.PURCHASE and order is not None:
        queue.refresh_order(order=order, server=command.server, now=now)
    audit_record(store=store, actor=actor, action="delivery.marked_delivered",
                 obj=order if order is not None else command, details={"command": command.pk})
    return command


@transaction.atomic
def command_run_again(*, store: Store, actor: Actor, order: Order | None,
                      command_id: int) -> DeliveryCommand:
    """The owner checked the game: it did not run; queue it again with a fresh budget."""
    require_permission(store, actor, Perm.SERVERS_MANAGE)
    order, command = _review_command(store, order, command_id)
    if GameServer.objects.filter(pk=command.server_id, removed_at__isnull=False).exists():
        raise Conflict("server_removed", "The command's server was removed; it cannot run "
                       "again there. Mark it delivered or handle it by hand.")
    now = timezone.now()
    if not Cmd.objects.filter(pk=command.pk, status=Cmd.Status.NEEDS_REVIEW).update(
            status=Cmd.Status.PENDING, attempt_base=F("attempt_count"), execute_after=None,
            review_since=None, updated_at=now):
        raise Conflict("not_awaiting_review", "This command is not awaiting review.")
    command.refresh_from_db()
    DeliveryLog.objects.create(store=store, command=command, kind=DeliveryLog.Kind.REQUEUED,
                               attempt=command.attempt_count, actor=actor.label,
                               message=f"run again by {actor.label} after review of "
                                       f"{command.last_error_code}")
    queue.bump_servers([command.server_id])
    audit_record(store=store, actor=actor, action="delivery.run_again",
                 obj=order if order is not None else command, details={"command": command.pk})
    return command
