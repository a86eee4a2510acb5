"""The worker that adds and removes Discord roles: Discord commands of the delivery queue.

Same states and guarantees as the agent's commands (delivery/agent.py): a command is leased
to one worker by a conditional UPDATE before its request is sent, every outcome is one
conditional write taken with the order row locked, attempts and back-off come from the
store's delivery settings, and a purchase's final failure emits ``delivery.failed``. A 429
reschedules without spending an attempt. Adding or removing a role twice changes nothing at
Discord, so a worker that dies mid-request leaves a command whose lease runs out and that
simply runs again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shopkeep.core.timefmt import iso
from shopkeep.delivery import queue
from shopkeep.delivery.agent import retry_delay
from shopkeep.delivery.models import DeliveryCommand, DeliveryLog
from shopkeep.delivery.services import agent_key_for
from shopkeep.discord import errors
from shopkeep.discord.client import DiscordClient, DiscordError, RateLimited, Unreachable
from shopkeep.discord.models import ClaimFollowup, DiscordSettings
from shopkeep.orders.models import Order
from shopkeep.payments.sealed import SealError, unseal

logger = logging.getLogger("shopkeep.discord")
Cmd = DeliveryCommand
LEASE = timedelta(seconds=60)
BATCH = 50


def promote_due(*, now: datetime) -> int:
    """Retrying Discord commands whose back-off ended are pending again."""
    due = list(Cmd.objects.filter(kind=Cmd.Kind.DISCORD, status=Cmd.Status.RETRYING,
                                  execute_after__lte=now).only("pk", "store_id", "attempt_count"))
    if not due:
        return 0
    moved = [c for c in due if Cmd.objects.filter(pk=c.pk, status=Cmd.Status.RETRYING).update(
        status=Cmd.Status.PENDING, execute_after=None, updated_at=now)]
    DeliveryLog.objects.bulk_create([
        DeliveryLog(store_id=c.store_id, command_id=c.pk, kind=DeliveryLog.Kind.DUE_AGAIN,
                    attempt=c.attempt_count, message="back-off over; due again")
        for c in moved])
    return len(moved)


def claim_due(*, owner: str, now: datetime, limit: int = BATCH) -> list[DeliveryCommand]:
    """Lease up to ``limit`` due Discord commands to ``owner``; two workers racing for one
    command cannot both win the UPDATE."""
    free = Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    pending = Cmd.objects.filter(kind=Cmd.Kind.DISCORD, status=Cmd.Status.PENDING)
    ids = list(pending.filter(free).order_by("id").values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    pending.filter(free, pk__in=ids).update(lease_owner=owner, leased_until=now + LEASE)
    return list(pending.filter(pk__in=ids, lease_owner=owner)
                .select_related("order", "order_item").order_by("id"))


def deliver_due(*, now: datetime | None = None, sleep=None, limit: int = BATCH) -> int:
    """One pass: make due retries pending, lease what is due, send it. Returns how many
    commands were sent (whatever Discord answered)."""
    now = now or timezone.now()
    promote_due(now=now)
    owner = f"discord:{uuid.uuid4().hex[:16]}"
    commands = claim_due(owner=owner, now=now, limit=limit)
    bots: dict[int, _Bot | None] = {}
    try:
        for command in commands:
            if command.store_id not in bots:
                bots[command.store_id] = _bot_for(command.store_id, sleep)
            _run(command, owner=owner, bot=bots[command.store_id])
    finally:
        for bot in bots.values():
            if bot is not None:
                bot.client.close()
    followups_send(now=timezone.now(), sleep=sleep)
    return len(commands)


@dataclass
class _Bot:
    """One store's settings and a client holding its token, for one pass."""

    settings: DiscordSettings
    client: DiscordClient


def _bot_for(store_id: int, sleep) -> _Bot | None:
    row = DiscordSettings.objects.filter(store_id=store_id).first()
    if row is None or not row.configured:
        return None
    try:
        token = unseal(row.bot_token_sealed, context=row.seal_context())
    except SealError:
        logger.warning("store %s: the Discord bot token cannot be opened", store_id)
        return None
    return _Bot(settings=row, client=DiscordClient(token, **({"sleep": sleep} if sleep else {})))


def _reason(command: DeliveryCommand) -> str:
    what = "purchase" if command.type == Cmd.Type.PURCHASE else command.type.replace("_", " ")
    return (f"Shopkeep order {command.order.order_number}: {what} of "
            f"{command.order_item.product_name}")


def _run(command: DeliveryCommand, *, owner: str, bot: _Bot | None) -> None:
    adding = command.type == Cmd.Type.PURCHASE
    if bot is None:
        _settle(command, owner, errors.not_configured())
        return
    row, client = bot.settings, bot.client
    try:
        if adding:
            client.add_role(row.guild_id, command.discord_user_id, command.discord_role_id,
                            reason=_reason(command))
        else:
            client.remove_role(row.guild_id, command.discord_user_id, command.discord_role_id,
                               reason=_reason(command))
    except RateLimited as exc:
        _rate_limited(command, owner, exc)
        return
    except Unreachable as exc:
        _settle(command, owner, errors.Outcome(errors.RETRY, "DISCORD_UNREACHABLE",
                                               f"Discord did not answer ({exc})."))
        return
    except DiscordError as exc:
        _settle(command, owner, errors.explain(
            exc, adding=adding, role_id=command.discord_role_id,
            role_name=row.role_name(command.discord_role_id), guild_id=row.guild_id,
            user_id=command.discord_user_id))
        return
    name = row.role_name(command.discord_role_id)
    done = (f"role {name} added to Discord user {command.discord_user_id}" if adding
            else f"role {name} removed from Discord user {command.discord_user_id}")
    _settle(command, owner, errors.Outcome(errors.DONE, "", done))


def _lock(command: DeliveryCommand) -> Order:
    return Order.objects.select_for_update().select_related("store").get(pk=command.order_id)


def _mine(command: DeliveryCommand, owner: str):
    return Cmd.objects.filter(pk=command.pk, status=Cmd.Status.PENDING, lease_owner=owner,
                              attempt_count=command.attempt_count)


@transaction.atomic
def _rate_limited(command: DeliveryCommand, owner: str, exc: RateLimited) -> None:
    _lock(command)
    now = timezone.now()
    due = now + timedelta(seconds=max(exc.retry_after, 1.0))
    if not _mine(command, owner).update(status=Cmd.Status.RETRYING, execute_after=due,
                                        lease_owner="", leased_until=None, updated_at=now):
        return
    scope = "the bot's global limit" if exc.is_global else "this route's limit"
    DeliveryLog.objects.create(
        store_id=command.store_id, command_id=command.pk, kind=DeliveryLog.Kind.RATE_LIMITED,
        attempt=command.attempt_count, actor="discord worker",
        message=f"Discord rate limit ({scope}): due again at {iso(due)}; no attempt used")


@transaction.atomic
def _settle(command: DeliveryCommand, owner: str, outcome: errors.Outcome) -> None:
    order = _lock(command)
    now = timezone.now()
    attempts = command.attempt_count + 1
    common = {"attempt_count": attempts, "updated_at": now, "lease_owner": "",
              "leased_until": None, "executed_by": "discord"}
    if outcome.next == errors.DONE:
        fields = {**common, "status": Cmd.Status.COMPLETED, "completed_at": now,
                  "execute_after": None, "output": outcome.message}
        kind = DeliveryLog.Kind.CONFIRMED
        message = outcome.message
    elif outcome.next == errors.WAIT_CLAIM:
        fields = {**common, "status": Cmd.Status.WAITING_CLAIM, "execute_after": None,
                  "last_error": outcome.message, "last_error_code": outcome.code}
        kind, message = DeliveryLog.Kind.WAITING_CLAIM, f"{outcome.code}: {outcome.message}"
    else:
        max_attempts = agent_key_for(order.store).max_attempts
        final = outcome.next == errors.FAIL or attempts - command.attempt_base >= max_attempts
        fields = {**common, "last_error": outcome.message, "last_error_code": outcome.code}
        message = f"{outcome.code}: {outcome.message}"
        if final:
            fields.update(status=Cmd.Status.FAILED, failed_at=now, execute_after=None)
            kind = DeliveryLog.Kind.FAILED
        else:
            due = now + retry_delay(attempts)
            fields.update(status=Cmd.Status.RETRYING, execute_after=due)
            kind = DeliveryLog.Kind.RETRY_SCHEDULED
            message += f" (due again at {iso(due)})"
    if not _mine(command, owner).update(**fields):
        return  # cancelled (a refund) or taken over meanwhile: the other writer decided
    command.refresh_from_db()
    DeliveryLog.objects.create(store_id=command.store_id, command=command, kind=kind,
                               attempt=attempts, message=message[:1000], actor="discord worker")
    if command.type != Cmd.Type.PURCHASE:
        return
    if command.status == Cmd.Status.COMPLETED:
        queue.refresh_order(order=order, now=now)
    elif command.status == Cmd.Status.FAILED:
        queue.announce_failure(order=order, command=command, now=now)


# -- /claim follow-ups ------------------------------------------------------------------------

FOLLOWUP_WAIT = timedelta(seconds=60)  # give retries this long before answering anyway
FOLLOWUP_EXPIRES = timedelta(minutes=14)  # Discord's interaction tokens live 15 minutes


def followups_send(*, now: datetime, sleep=None) -> int:
    """Tell buyers who used /claim what became of their roles, once each."""
    # Too late for these: the interaction token no longer works.
    ClaimFollowup.objects.filter(sent_at__isnull=True,
                                 created_at__lt=now - FOLLOWUP_EXPIRES).update(sent_at=now)
    sent = 0
    for row in ClaimFollowup.objects.filter(sent_at__isnull=True).order_by("id")[:100]:
        commands = list(Cmd.objects.filter(pk__in=row.command_ids, store_id=row.store_id))
        busy = [c for c in commands if c.status in (Cmd.Status.PENDING, Cmd.Status.RETRYING)]
        if busy and now - row.created_at < FOLLOWUP_WAIT:
            continue
        # Marked first: a follow-up lost to a crash is better than one sent twice.
        if not ClaimFollowup.objects.filter(pk=row.pk, sent_at__isnull=True).update(sent_at=now):
            continue
        bot = _bot_for(row.store_id, sleep)
        if bot is None:
            continue
        try:
            bot.client.followup(row.application_id, row.interaction_token, {
                "content": _followup_text(bot.settings, commands), "flags": 64,
                "allowed_mentions": {"parse": []}})
            sent += 1
        except (DiscordError, RateLimited, Unreachable) as exc:
            logger.info("/claim follow-up %s not sent: %s", row.pk, exc)
        finally:
            bot.client.close()
    return sent


def _followup_text(row: DiscordSettings, commands: list[DeliveryCommand]) -> str:
    lines = []
    for command in commands:
        name = row.role_name(command.discord_role_id)
        if command.status == Cmd.Status.COMPLETED:
            lines.append(f"{name}: assigned. Enjoy!")
        elif command.status in (Cmd.Status.PENDING, Cmd.Status.RETRYING):
            lines.append(f"{name}: still on its way (Discord is slow right now).")
        elif command.status == Cmd.Status.CANCELLED:
            lines.append(f"{name}: not assigned, the order was refunded or disputed.")
        else:
            lines.append(f"{name}: not assigned. {command.last_error}")
    return "\n".join(lines)[:1900] or "Nothing to assign."
