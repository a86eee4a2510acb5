"""What the agent API does, as plain synchronous services (the async views call them through
``sync_to_async``; transactions do not work in async code).

Every command transition is a conditional UPDATE on the command's status taken while the
order row is locked: two confirms racing (two requests, two web processes) change the row
once, and the loser is answered like a repeat. docs/agent-api.md is the contract.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone
from django.utils.http import parse_etags

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.ids import hash_secret
from shopkeep.core.tenancy import NotFound
from shopkeep.core.text import has_control_chars
from shopkeep.core.timefmt import iso
from shopkeep.delivery import queue
from shopkeep.delivery.models import (
    AGENT_LEASE_SECONDS,
    COMMAND_LEASE_SECONDS,
    DeliveryCommand,
    DeliveryLog,
    GameServer,
)
from shopkeep.delivery.wakeup import notify_servers
from shopkeep.orders.models import Order

Cmd = DeliveryCommand
INSTANCE_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ERROR_CODE_RE = re.compile(r"^[A-Z0-9_]{1,64}$")
SEEN_WRITE_EVERY = timedelta(seconds=20)  # bound the writes an idle agent causes
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=6)
MAX_OUTPUT = 4096
# Failures after which nobody knows whether the game ran the command (docs/agent-api.md):
# a command that is not safe to run again then waits for the owner's review.
OUTCOME_UNKNOWN_CODES = frozenset({"AGENT_CRASHED_DURING_EXECUTION", "OUTCOME_UNKNOWN"})


class Unauthenticated(ServiceError):
    status = 401

    def __init__(self) -> None:
        # One message for every cause: never tell a caller which secret was wrong.
        super().__init__("unauthenticated", "Invalid store or server secret.")


class DuplicateAgent(Conflict):
    def __init__(self) -> None:
        super().__init__("duplicate_agent", "Another agent instance is polling this server. "
                         "Stop it, or release it in the dashboard, before starting this one.")


def authenticate(*, store_secret: str, server_secret: str) -> GameServer:
    if not store_secret or not server_secret or len(store_secret) > 200 \
            or len(server_secret) > 200:
        raise Unauthenticated
    server = (GameServer.objects.alive().select_related("store", "store__agent_key")
              .filter(secret_hash=hash_secret(server_secret)).first())
    if server is None:
        raise Unauthenticated
    key = getattr(server.store, "agent_key", None)
    expected = key.secret_hash if key is not None else ""
    if not expected or not hmac.compare_digest(expected, hash_secret(store_secret)):
        raise Unauthenticated
    return server


def check_instance(instance: str | None) -> str:
    """The optional X-Agent-Instance: "" when absent (a seed-only client), 400 when malformed."""
    if not instance:
        return ""
    if not INSTANCE_RE.match(instance):
        raise ServiceError("invalid_agent_instance", "Send X-Agent-Instance: an id of 1 to 64 "
                           "letters, digits, '.', '_' or '-' that this installation keeps.")
    return instance


def claim(*, server: GameServer, instance: str, now: datetime | None = None) -> None:
    """One agent per server: refuse another instance while the holder is alive. A poller
    without an instance id claims nothing (its commands are leased per poll instead); it is
    only remembered, so the dashboard can say that this agent does not identify itself."""
    now = now or timezone.now()
    if not instance:
        seen = server.anonymous_seen_at
        if seen is None or now - seen > SEEN_WRITE_EVERY:
            GameServer.objects.filter(pk=server.pk).update(anonymous_seen_at=now)
            server.anonymous_seen_at = now
        return
    for _ in range(3):
        holder, seen = server.agent_instance, server.agent_seen_at
        if holder == instance:
            if seen is None or now - seen > SEEN_WRITE_EVERY:
                GameServer.objects.filter(pk=server.pk, agent_instance=instance).update(
                    agent_seen_at=now)
            return
        alive = bool(holder) and seen is not None and \
            (now - seen).total_seconds() < AGENT_LEASE_SECONDS
        if alive:
            if (server.duplicate_instance != instance or server.duplicate_seen_at is None
                    or now - server.duplicate_seen_at > SEEN_WRITE_EVERY):
                GameServer.objects.filter(pk=server.pk).update(
                    duplicate_instance=instance, duplicate_seen_at=now)
            raise DuplicateAgent
        # Take over only from the holder we saw: two newcomers racing cannot both win.
        taken = GameServer.objects.filter(pk=server.pk, agent_instance=holder,
                                          agent_seen_at=seen).update(
            agent_instance=instance, agent_seen_at=now)
        if taken:
            server.agent_instance, server.agent_seen_at = instance, now
            notify_servers([server.pk])  # other processes cached the old holder
            return
        server.refresh_from_db(fields=["agent_instance", "agent_seen_at", "duplicate_instance",
                                       "duplicate_seen_at"])
    raise DuplicateAgent


# -- polling ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    version: int

    def etag(self, server_id: int, limit: int) -> str:
        return f'"q{server_id}-{self.version}-{limit}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: If-None-Match is a list of entity tags or ``*``, compared weakly
    (``W/"x"`` matches ``"x"``); ``*`` matches any current list."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    if tags == ["*"]:
        return True
    return etag.removeprefix("W/") in {t.removeprefix("W/") for t in tags}


def anonymous_owner() -> str:
    """The lease owner of one poll without X-Agent-Instance: never equal to another poll's."""
    return "anon:" + secrets.token_hex(16)


def snapshot(*, server_id: int, now: datetime | None = None,
             loaded: GameServer | None = None) -> Snapshot:
    """The server's queue version, after making retries whose back-off ended due again.
    ``loaded``: the row authentication just read, saving a query on the idle path."""
    now = now or timezone.now()
    if loaded is not None:
        row = {"queue_version": loaded.queue_version, "retry_due_at": loaded.retry_due_at}
    else:
        row = GameServer.objects.filter(pk=server_id).values("queue_version",
                                                             "retry_due_at").get()
    if row["retry_due_at"] is not None and row["retry_due_at"] <= now:
        promote_due(server_id=server_id, now=now)
        row = GameServer.objects.filter(pk=server_id).values("queue_version").get()
    return Snapshot(version=row["queue_version"])


@transaction.atomic
def promote_due(*, server_id: int, now: datetime | None = None) -> int:
    """retrying -> pending for the server's commands whose ``execute_after`` has passed, and
    pending commands whose lease ran out are free again (both change what a poll receives)."""
    now = now or timezone.now()
    GameServer.objects.select_for_update().filter(pk=server_id).first()
    due = list(Cmd.objects.filter(server_id=server_id, status=Cmd.Status.RETRYING,
                                  execute_after__lte=now).only("pk", "store_id", "attempt_count"))
    freed = Cmd.objects.filter(server_id=server_id, status=Cmd.Status.PENDING,
                               leased_until__lte=now).update(leased_until=None, lease_owner="")
    if freed and not due:
        queue.bump_servers([server_id])
    if due:
        Cmd.objects.filter(pk__in=[c.pk for c in due], status=Cmd.Status.RETRYING).update(
            status=Cmd.Status.PENDING, execute_after=None, updated_at=now)
        DeliveryLog.objects.bulk_create([
            DeliveryLog(store_id=c.store_id, command_id=c.pk, kind=DeliveryLog.Kind.DUE_AGAIN,
                        attempt=c.attempt_count, message="back-off over; due again")
            for c in due])
        queue.bump_servers([server_id])
    _refresh_retry_due(server_id)
    return len(due)


def _refresh_retry_due(server_id: int) -> None:
    """``retry_due_at``: the next moment the server's due list changes by itself (a back-off
    ends or a lease runs out), so an idle poll before it can be answered from the version."""
    retry = Cmd.objects.filter(server_id=server_id, status=Cmd.Status.RETRYING).aggregate(
        at=Min("execute_after"))["at"]
    lease = Cmd.objects.filter(server_id=server_id, status=Cmd.Status.PENDING,
                               leased_until__isnull=False).aggregate(
        at=Min("leased_until"))["at"]
    nxt = min((t for t in (retry, lease) if t is not None), default=None)
    GameServer.objects.filter(pk=server_id).update(retry_due_at=nxt)


def due_commands(*, server_id: int, limit: int, owner: str = "",
                 now: datetime | None = None) -> tuple[list[dict], bool]:
    """The due commands this poller may receive, leased to it (``owner``: its instance id,
    or ``anonymous_owner()``). A command leased to another poller is not handed out until
    its lease runs out or it is reported, so two pollers never both receive it."""
    now = now or timezone.now()
    free = Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    if owner:
        free |= Q(lease_owner=owner)
    pending = Cmd.objects.filter(server_id=server_id, status=Cmd.Status.PENDING)
    # Queue order per player: a player's command is held back while an earlier one of theirs
    # on this server is retrying (due again after its back-off), so a removal never overtakes
    # the purchase it takes back (the agent keeps the order within one list).
    earlier = Cmd.objects.filter(server_id=server_id, status__in=Cmd.HOLDS_PLAYER,
                                 player_name=OuterRef("player_name"), id__lt=OuterRef("id"))
    ids = list(pending.filter(free).exclude(~Q(player_name="") & Q(Exists(earlier)))
               .order_by("id").values_list("pk", flat=True)[:limit + 1])
    more = len(ids) > limit
    ids = ids[:limit]
    if not ids:
        return [], more
    until = now + timedelta(seconds=COMMAND_LEASE_SECONDS)
    # Conditional on the lease still being free: of two pollers racing for a command, the
    # database lets one UPDATE take it, and each then reads back only what it holds.
    pending.filter(free, pk__in=ids).update(lease_owner=owner, leased_until=until)
    # An anonymous owner is unique to this poll; an instance is one agent (polls of its own
    # that overlap share what it holds).
    rows = list(pending.filter(pk__in=ids, lease_owner=owner)
                .select_related("order", "order_item", "product").order_by("id"))
    if rows and GameServer.objects.filter(
            Q(retry_due_at__isnull=True) | Q(retry_due_at__gt=until),
            pk=server_id).update(retry_due_at=until):
        notify_servers([server_id])  # cached idle answers must notice when the lease ends
    anonymous = owner.startswith("anon:")
    return [command_json(c, lease_until=c.leased_until if anonymous else None)
            for c in rows], more


def command_json(c: DeliveryCommand, lease_until: datetime | None = None) -> dict:
    return command_payload(
        id=c.pk, type=c.type, command=c.command, placeholders=c.placeholders,
        require_online=c.require_online, player_name=c.player_name,
        player_uuid=c.player_uuid, player_steam_id=c.player_steam_id,
        order=({"id": c.order_id, "order_number": c.order.order_number} if c.order_id
               else None),
        product=_product_json(c), origin=c.origin, attempt_count=c.attempt_count,
        created_at=c.created_at, safe_to_repeat=c.safe_to_repeat,
        delay_after_join=c.delay_after_join, lease_until=lease_until)


def command_payload(*, id: int, type: str, command: str, placeholders: dict,
                    require_online: bool, player_name: str, player_uuid: str,
                    player_steam_id: str, order: dict | None, product: dict | None,
                    origin: str, attempt_count: int, created_at: datetime,
                    safe_to_repeat: bool, delay_after_join: int,
                    lease_until: datetime | None) -> dict:
    """One command as the agent receives it. The one definition of the shape: the lean path
    (fastpath_take.py) builds its answers from plain rows through this too."""
    extra = {} if lease_until is None else {
        "lease": {"expires_at": iso(lease_until), "seconds": COMMAND_LEASE_SECONDS}}
    return {
        "id": id,
        "type": type,
        "command": command,
        "placeholders": {k: "" if v is None else str(v) for k, v in placeholders.items()},
        "require_online": require_online,
        "player": {"name": player_name, "uuid": player_uuid or None,
                   "steam_id": player_steam_id or None},
        # Test and manual commands have no order (docs/agent-api.md): ``order`` is null and
        # ``origin`` says why; seed-only agents never read either.
        "order": order,
        "product": product,
        "origin": origin,
        "test": origin == Cmd.Origin.TEST,
        "attempt": attempt_count + 1,
        "created_at": iso(created_at),
        "safe_to_repeat": safe_to_repeat,
        "delay_after_join": delay_after_join,
        **extra,
    }


def _product_json(c: DeliveryCommand) -> dict | None:
    if c.order_item_id:
        return {"id": c.order_item.product_id, "name": c.order_item.product_name}
    if c.product_id:
        return {"id": c.product_id, "name": c.product.name}
    return None


# -- reports ----------------------------------------------------------------------------------

def _command_for(server: GameServer, command_id: int) -> DeliveryCommand:
    command = (Cmd.objects.select_related("server").filter(pk=command_id, server=server)
               .first())
    if command is None:
        raise NotFound("command not found")  # another server's command looks like none
    return command


def _lock_order(command: DeliveryCommand) -> Order | None:
    """The order row serialises every transition of its commands. A test or manual command
    has no order: its own row is locked instead (the conditional UPDATE decides anyway)."""
    if command.order_id is None:
        Cmd.objects.select_for_update().filter(pk=command.pk).first()
        return None
    return Order.objects.select_for_update().select_related("store", "customer").get(
        pk=command.order_id)


def _answer(command: DeliveryCommand, changed: bool) -> dict:
    return {"id": command.pk, "status": command.status, "changed": changed}


_REFUSE_CONFIRM = {
    Cmd.Status.CANCELLED: ("command_cancelled", "This command was cancelled; do not run it."),
    Cmd.Status.FAILED: ("command_failed", "This command already failed for good; the owner "
                        "can retry it from the dashboard."),
}


@transaction.atomic
def confirm(*, server: GameServer, command_id: int, output: str = "", instance: str = "",
            now: datetime | None = None) -> dict:
    now = now or timezone.now()
    command = _command_for(server, command_id)
    order = _lock_order(command)
    # From needs_review too: the agent knows better than the guess that it might not have run.
    won = Cmd.objects.filter(pk=command.pk,
                             status__in=[*Cmd.OPEN, Cmd.Status.NEEDS_REVIEW]).update(
        status=Cmd.Status.COMPLETED, completed_at=now, updated_at=now, execute_after=None,
        attempt_count=command.attempt_count + 1, output=_clip(output, MAX_OUTPUT),
        executed_by=instance, lease_owner="", leased_until=None)
    command.refresh_from_db()
    if not won:
        if command.status == Cmd.Status.COMPLETED:
            return _answer(command, False)
        code, message = _REFUSE_CONFIRM[command.status]
        raise Conflict(code, message)
    DeliveryLog.objects.create(store_id=command.store_id, command=command,
                               kind=DeliveryLog.Kind.CONFIRMED, attempt=command.attempt_count,
                               message=_clip(output, 1000), actor=f"agent {instance}".strip())
    queue.bump_servers([command.server_id])
    if command.type == Cmd.Type.PURCHASE and order is not None:
        queue.refresh_order(order=order, server=command.server, now=now)
    return _answer(command, True)


def retry_delay(attempt: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, ... capped at 6 h (attempt is the one that just failed)."""
    return min(RETRY_BASE * (4 ** max(attempt - 1, 0)), RETRY_CAP)


@transaction.atomic
def fail(*, server: GameServer, command_id: int, error: str, error_code: str = "",
         retryable: bool = True, attempt: int | None = None, instance: str = "",
         max_attempts: int = 5, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    error = _clip(error or "", 1000).strip()
    if not error:
        raise ServiceError("invalid_error", "Say what went wrong in `error`.", field="error")
    error_code = error_code or "COMMAND_FAILED"
    if not ERROR_CODE_RE.match(error_code):
        raise ServiceError("invalid_error_code", "error_code is 1 to 64 of A-Z, 0-9 and _.",
                           field="error_code")
    command = _command_for(server, command_id)
    order = _lock_order(command)
    command.refresh_from_db()
    if command.status == Cmd.Status.COMPLETED:
        raise Conflict("command_completed", "This command was already confirmed.")
    if command.status == Cmd.Status.CANCELLED:
        raise Conflict("command_cancelled", "This command was cancelled.")
    if command.status != Cmd.Status.PENDING or (
            attempt is not None and attempt <= command.attempt_count):
        return _answer(command, False)  # a repeated report of a failure already recorded
    attempts = command.attempt_count + 1
    unknown = error_code in OUTCOME_UNKNOWN_CODES
    if unknown and command.safe_to_repeat:
        retryable = True  # the owner said running it twice is harmless
    review = unknown and not command.safe_to_repeat
    final = not review and (not retryable or attempts - command.attempt_base >= max_attempts)
    fields = {"attempt_count": attempts, "last_error": error, "last_error_code": error_code,
              "updated_at": now, "executed_by": instance, "lease_owner": "",
              "leased_until": None}
    if review:
        fields.update(status=Cmd.Status.NEEDS_REVIEW, review_since=now, execute_after=None)
    elif final:
        fields.update(status=Cmd.Status.FAILED, failed_at=now, execute_after=None)
    else:
        fields.update(status=Cmd.Status.RETRYING, execute_after=now + retry_delay(attempts))
    if not Cmd.objects.filter(pk=command.pk, status=Cmd.Status.PENDING,
                              attempt_count=command.attempt_count).update(**fields):
        command.refresh_from_db()
        return _answer(command, False)
    command.refresh_from_db()
    kind = (DeliveryLog.Kind.NEEDS_REVIEW if review else DeliveryLog.Kind.FAILED if final
            else DeliveryLog.Kind.RETRY_SCHEDULED)
    message = f"{error_code}: {error}"
    if review:
        message += " (awaiting the owner's review: Mark delivered or Run again)"
    elif not final:
        message += f" (due again at {iso(command.execute_after)})"
    DeliveryLog.objects.create(store_id=command.store_id, command=command, kind=kind,
                               attempt=attempts, message=_clip(message, 1000),
                               actor=f"agent {instance}".strip())
    queue.bump_servers([command.server_id])
    if final:
        if command.type == Cmd.Type.PURCHASE and order is not None:
            queue.announce_failure(order=order, command=command, now=now)
    elif not review:
        _refresh_retry_due(command.server_id)
    return _answer(command, True)


def _clip(value: str, limit: int) -> str:
    value = value or ""
    return value if len(value) <= limit else value[:limit]


# -- heartbeat --------------------------------------------------------------------------------

MAX_PLAYERS = 1000


def heartbeat(*, server: GameServer, agent_version: str, players: list[dict],
              now: datetime | None = None) -> None:
    now = now or timezone.now()
    if len(players) > MAX_PLAYERS:
        raise ServiceError("too_many_players", f"At most {MAX_PLAYERS} players.",
                           field="players")
    cleaned = []
    for player in players:
        name = str(player.get("name") or "")[:64]
        if not name or has_control_chars(name):
            raise ServiceError("invalid_player", "Each player needs a printable name.",
                               field="players")
        cleaned.append({"name": name, "uuid": _opt(player.get("uuid"), 36),
                        "steam_id": _opt(player.get("steam_id"), 17)})
    version = (agent_version or "")[:32]
    if has_control_chars(version):
        raise ServiceError("invalid_agent_version", "agent_version must be printable.",
                           field="agent_version")
    GameServer.objects.filter(pk=server.pk).update(
        last_heartbeat_at=now, agent_version=version, online_players=cleaned)


def heartbeat_answer(*, now: datetime | None = None) -> dict:
    """The heartbeat's JSON answer; ``latest_agent_version`` lets an agent say it is out of
    date (the dashboard flags it too)."""
    from shopkeep.delivery.versions import latest_agent_version

    return {"ok": True, "next_heartbeat_seconds": 120, "server_time": iso(now or timezone.now()),
            "latest_agent_version": latest_agent_version() or None}


def _opt(value: object, limit: int) -> str | None:
    if value in (None, ""):
        return None
    text = str(value)[:limit]
    return None if has_control_chars(text) else text
