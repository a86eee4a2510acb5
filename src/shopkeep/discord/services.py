"""Writes for Discord: the store's bot settings, a product's Discord roles, and /claim.

Keyword-only, one transaction each, with an audit row. Nothing here talks to Discord: the
check and the role changes run in the worker (tasks.py), enqueued in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from shopkeep.catalog.models import DeliveryAction, Product
from shopkeep.core.errors import ServiceError
from shopkeep.core.text import has_control_chars
from shopkeep.delivery import channels
from shopkeep.delivery.models import DeliveryCommand, DeliveryLog
from shopkeep.discord.models import DiscordClaim, DiscordSettings
from shopkeep.discord.tasks import discord_check
from shopkeep.orders.models import Order
from shopkeep.payments.sealed import seal
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

Cmd = DeliveryCommand
SNOWFLAKE = re.compile(r"^[0-9]{17,20}$")
PUBLIC_KEY = re.compile(r"^[0-9a-f]{64}$")
TOKEN = re.compile(r"^[A-Za-z0-9_\-.]{50,120}$")
MAX_ROLES = 10
REMOVE_TRIGGERS = ("refund", "chargeback", "subscription_cancel")
CLAIM_FAILURES_ALLOWED = 5
CLAIM_LOCKOUT_SECONDS = 15 * 60


def settings_for(store: Store) -> DiscordSettings:
    row, _ = DiscordSettings.objects.get_or_create(store=store)
    return row


def _snowflake(value: str, *, field: str, what: str) -> str:
    value = (value or "").strip()
    if value and not SNOWFLAKE.match(value):
        raise ServiceError(f"invalid_{field}", f"{what} is a number of 17 to 20 digits (turn "
                           "on Developer Mode in Discord, then right-click > Copy ID).",
                           field=field)
    return value


def _enqueue_check(row: DiscordSettings) -> None:
    row.check_requested_at = timezone.now()
    DiscordSettings.objects.filter(pk=row.pk).update(check_requested_at=row.check_requested_at)
    discord_check.enqueue(row.store_id)


@transaction.atomic
def discord_settings_update(*, store: Store, actor: Actor, guild_id: str, public_key: str,
                            bot_token: str = "", application_id: str = "") -> DiscordSettings:
    """Save the bot's settings and ask for a check. An empty ``bot_token`` keeps the stored
    one (it is never shown, so a form cannot send it back)."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    guild_id = _snowflake(guild_id, field="guild_id", what="The server id")
    application_id = _snowflake(application_id, field="application_id",
                                what="The application id")
    public_key = (public_key or "").strip().lower()
    if public_key and not PUBLIC_KEY.match(public_key):
        raise ServiceError("invalid_public_key", "The public key is 64 hexadecimal characters "
                           "(Developer Portal > General Information > Public Key).",
                           field="public_key")
    bot_token = (bot_token or "").strip()
    if bot_token.lower().startswith("bot "):
        bot_token = bot_token[4:].strip()
    if bot_token and (has_control_chars(bot_token) or not TOKEN.match(bot_token)):
        raise ServiceError("invalid_bot_token", "That does not look like a bot token: copy it "
                           "from the Developer Portal (Bot > Reset Token).", field="bot_token")
    row = DiscordSettings.objects.select_for_update().filter(store=store).first() \
        or settings_for(store)
    if not guild_id:
        raise ServiceError("invalid_guild_id", "Give the id of your Discord server.",
                           field="guild_id")
    if not bot_token and not row.bot_token_sealed:
        raise ServiceError("invalid_bot_token", "Paste the bot token.", field="bot_token")
    old = {"guild_id": row.guild_id, "public_key": row.public_key,
           "application_id": row.application_id}
    if guild_id != row.guild_id:
        # Another server: its roles and findings are not this one's.
        row.roles, row.guild_name, row.problems, row.command_registered = [], "", [], False
    row.guild_id, row.public_key = guild_id, public_key
    row.application_id = application_id or (row.application_id if not bot_token else "")
    if bot_token:
        row.bot_token_sealed = seal(bot_token, context=row.seal_context())
        row.bot_token_last4 = bot_token[-4:]
        row.bot_user_id = row.bot_username = ""
    row.updated_at = timezone.now()
    row.save()
    audit_record(store=store, actor=actor, action="discord.settings_updated", obj=row,
                 details={"old": old, "new": {"guild_id": guild_id, "public_key": public_key,
                                              "application_id": row.application_id},
                          "bot_token_replaced": bool(bot_token),
                          "bot_token_last4": row.bot_token_last4})
    _enqueue_check(row)
    return row


@transaction.atomic
def discord_disconnect(*, store: Store, actor: Actor) -> None:
    """Forget the bot. Roles still to deliver fail with "Discord is not set up" and can be
    retried after a new bot is saved."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    row = DiscordSettings.objects.filter(store=store).first()
    if row is None:
        return
    audit_record(store=store, actor=actor, action="discord.disconnected", obj=row,
                 details={"guild_id": row.guild_id, "bot_token_last4": row.bot_token_last4})
    row.delete()


@transaction.atomic
def discord_check_request(*, store: Store, actor: Actor) -> DiscordSettings:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    row = settings_for(store)
    if not row.configured:
        raise ServiceError("not_configured", "Save the bot token and the server id first.")
    _enqueue_check(row)
    return row


# -- a product's Discord roles ----------------------------------------------------------------

@dataclass
class RolesInput:
    role_ids: list[str]
    remove_on: list[str] = field(default_factory=lambda: list(REMOVE_TRIGGERS))


@transaction.atomic
def product_discord_roles_set(*, store: Store, actor: Actor, product: Product,
                              data: RolesInput) -> list[DeliveryAction]:
    """Replace the product's Discord roles: added on purchase, removed on the triggers of
    ``remove_on``. An empty ``role_ids`` removes the Discord delivery."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    product = Product.objects.alive().select_for_update().get(pk=product.pk, store=store)
    role_ids: list[str] = []
    for raw in data.role_ids:
        role_id = _snowflake(str(raw), field="role_ids", what="A role id")
        if role_id and role_id not in role_ids:
            role_ids.append(role_id)
    if len(role_ids) > MAX_ROLES:
        raise ServiceError("too_many_roles", f"A product gives at most {MAX_ROLES} roles.",
                           field="role_ids")
    unknown_triggers = set(data.remove_on) - set(REMOVE_TRIGGERS)
    if unknown_triggers:
        raise ServiceError("invalid_remove_on", "remove_on takes refund, chargeback and "
                           "subscription_cancel.", field="remove_on")
    row = DiscordSettings.objects.filter(store=store).first()
    known = {r["id"]: r for r in (row.roles if row else [])}
    if known:
        missing = [r for r in role_ids if r not in known]
        if missing:
            raise ServiceError("unknown_role", f"Role id {missing[0]} is not in your Discord "
                               "server's role list (press Check in Settings > Discord to "
                               "refresh it).", field="role_ids")
        managed = [known[r]["name"] for r in role_ids if known[r].get("managed")]
        if managed:
            raise ServiceError("managed_role", f"Role {managed[0]} belongs to an integration; "
                               "Discord lets no bot assign it.", field="role_ids")
    DeliveryAction.objects.filter(product=product, kind=DeliveryAction.Kind.DISCORD_ROLE).delete()
    rows: list[DeliveryAction] = []
    if role_ids:
        for trigger in ("purchase", *[t for t in REMOVE_TRIGGERS if t in data.remove_on]):
            rows.append(DeliveryAction.objects.create(
                store=store, product=product, trigger=trigger,
                kind=DeliveryAction.Kind.DISCORD_ROLE, role_ids=role_ids, commands=[],
                all_servers=False, sort_order=100))
    audit_record(store=store, actor=actor, action="product.discord_roles_set", obj=product,
                 details={"role_ids": role_ids,
                          "remove_on": [t for t in REMOVE_TRIGGERS if t in data.remove_on]})
    return rows


# -- /claim -----------------------------------------------------------------------------------

@dataclass
class ClaimResult:
    assigned: list[str] = field(default_factory=list)  # role names queued now
    already: list[str] = field(default_factory=list)  # role names given before
    underway: list[str] = field(default_factory=list)  # queued or retrying already
    failed: list[str] = field(default_factory=list)  # "VIP: why"
    orders: list[str] = field(default_factory=list)
    refusal: str = ""
    queued_ids: list[int] = field(default_factory=list)  # commands made due by this claim

    def text(self) -> str:
        if self.refusal:
            return self.refusal
        lines = []
        where = ", ".join(self.orders)
        if self.assigned:
            lines.append(f"Assigning {_names(self.assigned)} (order {where}) now: it takes a "
                         "few seconds.")
        if self.already:
            lines.append(f"You already have {_names(self.already)}.")
        if self.underway:
            lines.append(f"{_names(self.underway)} is already on its way.")
        for failure in self.failed:
            lines.append(f"Not assigned: {failure}. The store owner has been told in the "
                         "delivery log.")
        if not lines:
            lines.append(f"Order {where} has no Discord roles left to assign.")
        return "\n".join(lines)[:1900]


def _names(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(unique[:-1]) + " and " + unique[-1] if len(unique) > 1 else unique[0]


def _throttle_key(store: Store, user_id: str) -> str:
    return f"discord-claim-fail:{store.pk}:{user_id}"


def claim(*, store: Store, discord_user_id: str, discord_username: str = "",
          order_number: str = "", email: str = "") -> ClaimResult:
    """Link the Discord user to their purchases and queue the roles still waiting: the
    orders bought with this Discord account (signed in at checkout) or, with an order number
    and the checkout e-mail, that one order. An order stays linked to the first account that
    claims it."""
    if not SNOWFLAKE.match(discord_user_id or ""):
        return ClaimResult(refusal="Discord did not say who you are; try again.")
    row = DiscordSettings.objects.filter(store=store).first()
    order_number, email = (order_number or "").strip().upper(), (email or "").strip().lower()
    if order_number or email:
        if not (order_number and email):
            return ClaimResult(refusal="Give both your order number and the e-mail address "
                               "you used at checkout.")
        key = _throttle_key(store, discord_user_id)
        if (cache.get(key) or 0) >= CLAIM_FAILURES_ALLOWED:
            return ClaimResult(refusal="Too many tries with a wrong order number or e-mail: "
                               "wait 15 minutes and try again.")
        order = Order.objects.filter(store=store, order_number=order_number).first()
        if order is None or not constant_time_compare(order.customer_email.lower(), email):
            if not cache.add(key, 1, timeout=CLAIM_LOCKOUT_SECONDS):
                cache.incr(key)
            return ClaimResult(refusal="No order of this store matches that order number and "
                               "e-mail address.")
        if order.player_discord_id and order.player_discord_id != discord_user_id and \
                Cmd.objects.filter(order=order, kind=Cmd.Kind.DISCORD,
                                   type=Cmd.Type.PURCHASE).exclude(
                    status__in=[Cmd.Status.WAITING_CLAIM, Cmd.Status.CANCELLED]).exists():
            # The checkout's account has (or is getting) the roles: moving them to a second
            # account would give them twice. Roles still waiting for /claim (the checkout
            # account never joined the server) may go to the account that proves the order.
            return ClaimResult(refusal=f"Order {order.order_number} was bought with another "
                               "Discord account: use /claim from that account.")
        order_ids, via = [order.pk], "order_number"
    else:
        signed_in = Order.objects.filter(store=store, player_discord_id=discord_user_id)
        claimed = DiscordClaim.objects.filter(store=store, discord_user_id=discord_user_id)
        order_ids = sorted({*signed_in.values_list("pk", flat=True),
                            *claimed.values_list("order_id", flat=True)})
        order_ids = [pk for pk in order_ids if Cmd.objects.filter(
            order_id=pk, kind=Cmd.Kind.DISCORD).exists()]
        via = "checkout"
        if not order_ids:
            return ClaimResult(refusal="No purchase of this store is linked to your Discord "
                               "account. If you bought without signing in with Discord, use "
                               "/claim with your order number and checkout e-mail.")
    result = ClaimResult()
    woken: list[DeliveryCommand] = []
    for order_id in order_ids:
        with transaction.atomic():
            woken += _claim_order(store, row, order_id, discord_user_id, discord_username,
                                  via, result)
    if woken:
        channels.wake(woken)  # after the per-order commits; enqueues only
    result.queued_ids = [c.pk for c in woken]
    return result


def _claim_order(store: Store, row: DiscordSettings | None, order_id: int, user_id: str,
                 username: str, via: str, result: ClaimResult) -> list[DeliveryCommand]:
    order = Order.objects.select_for_update().get(pk=order_id, store=store)
    link = DiscordClaim.objects.filter(order=order).first()
    if link is not None and link.discord_user_id != user_id:
        result.refusal = (f"Order {order.order_number} is already linked to another Discord "
                          "account.")
        return []
    if link is None:
        DiscordClaim.objects.create(store=store, order=order, discord_user_id=user_id,
                                    discord_username=username[:64], via=via)
    result.orders.append(order.order_number)
    name = row.role_name if row else (lambda r: r)
    purchase = Cmd.objects.filter(order=order, kind=Cmd.Kind.DISCORD, type=Cmd.Type.PURCHASE)
    now = timezone.now()
    woken = []
    for command in purchase.order_by("id"):
        role = name(command.discord_role_id)
        if command.status == Cmd.Status.WAITING_CLAIM:
            if Cmd.objects.filter(pk=command.pk, status=Cmd.Status.WAITING_CLAIM).update(
                    status=Cmd.Status.PENDING, discord_user_id=user_id, execute_after=None,
                    lease_owner="", leased_until=None, updated_at=now):
                DeliveryLog.objects.create(
                    store=store, command=command, kind=DeliveryLog.Kind.CLAIMED,
                    attempt=command.attempt_count, actor=f"discord user {user_id}",
                    message=f"/claim by Discord user {username or user_id}: due again")
                command.status = Cmd.Status.PENDING
                woken.append(command)
                result.assigned.append(role)
        elif command.status == Cmd.Status.COMPLETED:
            result.already.append(role)
        elif command.status in (Cmd.Status.PENDING, Cmd.Status.RETRYING):
            result.underway.append(role)
        elif command.status == Cmd.Status.FAILED:
            result.failed.append(f"{role}: {command.last_error}")
    return woken
