"""Bans: a store refuses checkout to an e-mail, player name, UUID, Steam id, Discord id or
IP address, with a reason (for the team and the audit log) and an optional message the
refused buyer reads. Lifting keeps the row (history); a new ban of the same value may follow.

``ban_check`` is called by the checkout service before anything is written, so a banned
buyer gets a clear 403 and no order, customer row, stock hold or coupon use.
"""

from __future__ import annotations

import contextlib
import ipaddress
import uuid as uuidlib

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.customers.identity import PlayerIdentity
from shopkeep.customers.models import Customer, CustomerBan
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

Kind = CustomerBan.Kind
NEUTRAL_MESSAGE = "This store does not accept orders from you."


class CustomerBanned(ServiceError):
    status = 403

    def __init__(self, message: str) -> None:
        super().__init__("customer_banned", message)


def normalise(kind: str, value: str) -> str:
    """The stored and compared form of a value; ServiceError for one that cannot be it."""
    raw = (value or "").strip()
    if not raw or has_control_chars(raw) or len(raw) > 254:
        raise ServiceError("invalid_ban_value", "Give the value to ban (printable, at most 254 "
                           "characters).", field="value")
    if kind in (Kind.EMAIL, Kind.PLAYER):
        return raw.lower()
    if kind == Kind.UUID:
        try:
            return str(uuidlib.UUID(raw))
        except ValueError:
            raise ServiceError("invalid_ban_value", "That is not a UUID.", field="value") from None
    if kind in (Kind.STEAM_ID, Kind.DISCORD_ID):
        if not raw.isdigit() or len(raw) > 20:
            raise ServiceError("invalid_ban_value", "Steam and Discord ids are digits only.",
                               field="value")
        return raw
    if kind == Kind.IP:
        try:
            return str(ipaddress.ip_address(raw))
        except ValueError:
            raise ServiceError("invalid_ban_value", "That is not an IP address.",
                               field="value") from None
    raise ServiceError("invalid_ban_kind", "Ban by one of: " + ", ".join(Kind.values) + ".",
                       field="kind")


def _clean_text(value: str, field: str, *, required: bool) -> str:
    if has_control_chars(value or ""):
        raise ServiceError("invalid_text", "Control characters are not allowed.", field=field)
    text = clean_line(value or "", max_length=300)
    if required and not text:
        raise ServiceError("reason_required", "Say why (kept in the audit log).", field=field)
    return text


@transaction.atomic
def ban_create(*, store: Store, actor: Actor, kind: str, value: str, reason: str,
               public_message: str = "", customer: Customer | None = None) -> CustomerBan:
    require_permission(store, actor, Perm.CUSTOMERS_MANAGE)
    if kind not in Kind.values:
        raise ServiceError("invalid_ban_kind", "Ban by one of: " + ", ".join(Kind.values) + ".",
                           field="kind")
    value = normalise(kind, value)
    reason = _clean_text(reason, "reason", required=True)
    public_message = _clean_text(public_message, "public_message", required=False)
    if customer is not None:
        customer = get_for_store(Customer, store, pk=customer.pk)
    try:
        with transaction.atomic():
            ban = CustomerBan.objects.create(store=store, customer=customer, kind=kind,
                                             value=value, reason=reason,
                                             public_message=public_message,
                                             created_by=actor.label)
    except IntegrityError:
        raise Conflict("already_banned", f"{Kind(kind).label} {value} is already banned.",
                       field="value") from None
    audit_record(store=store, actor=actor, action="customer.banned", obj=ban,
                 details={"kind": kind, "value": value, "reason": reason,
                          "customer": customer.email if customer else ""})
    return ban


def customer_identifiers(customer: Customer) -> list[tuple[str, str]]:
    """What "Ban this customer" bans: every identifier the customer row has."""
    pairs = [(Kind.EMAIL, customer.email), (Kind.PLAYER, customer.player_name),
             (Kind.UUID, customer.minecraft_uuid), (Kind.STEAM_ID, customer.steam_id),
             (Kind.DISCORD_ID, customer.discord_id)]
    return [(k, v) for k, v in pairs if v]


@transaction.atomic
def customer_ban(*, store: Store, actor: Actor, customer: Customer, kinds: list[str],
                 reason: str, public_message: str = "") -> list[CustomerBan]:
    """Ban the chosen identifiers of one customer at once (already banned ones are skipped)."""
    require_permission(store, actor, Perm.CUSTOMERS_MANAGE)
    customer = get_for_store(Customer, store, pk=customer.pk)
    chosen = [(k, v) for k, v in customer_identifiers(customer) if k in kinds]
    if not chosen:
        raise ServiceError("nothing_to_ban", "Choose at least one of the customer's "
                           "identifiers to ban.", field="kinds")
    bans = []
    for kind, value in chosen:
        if CustomerBan.objects.filter(store=store, kind=kind, value=normalise(kind, value),
                                      lifted_at__isnull=True).exists():
            continue
        bans.append(ban_create(store=store, actor=actor, kind=kind, value=value, reason=reason,
                               public_message=public_message, customer=customer))
    if not bans:
        raise Conflict("already_banned", "Everything chosen is already banned.")
    return bans


@transaction.atomic
def ban_lift(*, store: Store, actor: Actor, ban: CustomerBan, note: str = "") -> CustomerBan:
    require_permission(store, actor, Perm.CUSTOMERS_MANAGE)
    note = _clean_text(note, "note", required=False)
    now = timezone.now()
    if not CustomerBan.objects.filter(pk=ban.pk, store=store, lifted_at__isnull=True).update(
            lifted_at=now, lifted_by=actor.label):
        get_for_store(CustomerBan, store, pk=ban.pk)  # 404 when not the store's
        raise Conflict("not_banned", "This ban was already lifted.")
    ban.refresh_from_db()
    audit_record(store=store, actor=actor, action="customer.ban_lifted", obj=ban,
                 details={"kind": ban.kind, "value": ban.value, "note": note})
    return ban


def _candidates(email: str, identity: PlayerIdentity | None, ip: str) -> Q:
    wanted: list[tuple[str, str]] = []
    if email:
        wanted.append((Kind.EMAIL, email.strip().lower()))
    if identity is not None:
        wanted += [(Kind.PLAYER, (identity.player_name or "").lower()),
                   (Kind.UUID, identity.uuid), (Kind.STEAM_ID, identity.steam_id),
                   (Kind.DISCORD_ID, identity.discord_id)]
    if ip:
        with contextlib.suppress(ValueError):  # a proxy's odd REMOTE_ADDR bans nothing
            wanted.append((Kind.IP, str(ipaddress.ip_address(ip))))
    query = Q(pk__in=[])
    for kind, value in wanted:
        if value:
            query |= Q(kind=kind, value=value)
    return query


def ban_check(*, store: Store, email: str, identity: PlayerIdentity | None = None,
              ip: str = "") -> None:
    """Raise CustomerBanned when any of the buyer's values is banned by ``store``.

    The refusal names no identifier and no reason (the owner's reason is internal); it shows
    the ban's public message. Nothing is written: the checkout's transaction rolls back.
    """
    ban = (CustomerBan.objects.filter(store=store, lifted_at__isnull=True)
           .filter(_candidates(email, identity, ip)).order_by("id").first())
    if ban is not None:
        raise CustomerBanned(ban.public_message or NEUTRAL_MESSAGE)
