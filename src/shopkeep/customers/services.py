from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from shopkeep.core.errors import ServiceError
from shopkeep.core.ids import random_string
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.customers.identity import (
    STEAM_GAMES,
    PlayerIdentity,
    clean_discord_id,
    clean_steam_id,
    identity_clean,
)
from shopkeep.customers.models import Customer
from shopkeep.customers.payloads import customer_created_data
from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

_REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes


@dataclass
class CustomerInput:
    email: str
    player_name: str
    name: str = ""
    country: str = ""
    minecraft_uuid: str = ""
    steam_id: str = ""
    steam_username: str = ""
    discord_id: str = ""
    discord_username: str = ""
    referred_by_code: str = ""
    # Providers ("steam", "discord") whose id above the buyer proved by signing in with it;
    # only the storefront's sign-in sets this, never a typed or API value.
    linked: tuple[str, ...] = ()


LINK_PROVIDERS = ("steam", "discord")


def clean_email(value: str) -> str:
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ServiceError("invalid_email", "Enter a valid e-mail address.",
                           field="email") from None
    return email


def clean_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code and pycountry.countries.get(alpha_2=code) is None:
        raise ServiceError("invalid_country", f"Unknown country code {code!r}.", field="country")
    return code


def _clean_text(value: str, field: str, max_length: int) -> str:
    if has_control_chars(value or ""):
        raise ServiceError("invalid_text", "Control characters are not allowed.", field=field)
    return clean_line(value, max_length=max_length)


def clean_name(value: str) -> str:
    return _clean_text(value, "name", 150)


def _new_referral_code(store: Store) -> str:
    for _ in range(10):
        code = random_string(8, _REFERRAL_ALPHABET)
        if not Customer.objects.filter(store=store, referral_code=code).exists():
            return code
    raise RuntimeError("could not find a free referral code")


def identity_of(store: Store, data: CustomerInput) -> PlayerIdentity:
    return identity_clean(store.game, player_name=data.player_name,
                          minecraft_uuid=data.minecraft_uuid, steam_id=data.steam_id,
                          discord_id=data.discord_id)


def _apply(store: Store, customer: Customer, data: CustomerInput) -> None:
    identity = identity_of(store, data)
    customer.name = _clean_text(data.name, "name", 150)
    customer.country = clean_country(data.country)
    customer.player_name = identity.player_name
    customer.minecraft_uuid = identity.uuid
    customer.steam_id = identity.steam_id
    customer.steam_username = _clean_text(data.steam_username, "steam_username", 64)
    customer.discord_id = identity.discord_id
    customer.discord_username = _clean_text(data.discord_username, "discord_username", 64)
    customer.identity_at = timezone.now()


@transaction.atomic
def customer_get_or_create(*, store: Store, data: CustomerInput) -> tuple[Customer, bool]:
    """The store's customer with this e-mail, created from ``data`` if there is none.

    An existing customer is returned unchanged: typing someone's e-mail address at checkout
    proves nothing, so an unpaid checkout must never rewrite their stored identity (issue 12).
    A paid order may update it afterwards (``customer_record_paid_identity``).
    ``customer.created`` fires only once.
    """
    email = clean_email(data.email)
    customer = Customer.objects.filter(store=store, email=email).first()
    if customer is not None:
        return customer, False
    customer = Customer(store=store, email=email, referral_code=_new_referral_code(store))
    code = (data.referred_by_code or "").strip().upper()
    if code:
        customer.referred_by = Customer.objects.filter(store=store, referral_code=code).first()
    _apply(store, customer, data)
    for provider in data.linked:
        uid = getattr(customer, f"{provider}_id")
        # An id already linked to another customer stays theirs: this one gets the value for
        # its order but cannot sign in with it.
        if uid and not customer_linked(store=store, provider=provider, uid=uid):
            setattr(customer, f"{provider}_linked_at", customer.identity_at)
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # A concurrent checkout with the same e-mail created the row first: use it as it is.
        existing = Customer.objects.filter(store=store, email=email).first()
        if existing is not None:
            return existing, False
        # Or a concurrent sign-in linked the same Steam/Discord id first: keep the value
        # without the link.
        customer.steam_linked_at = customer.discord_linked_at = None
        customer.save()
    emit(store=store, event_type="customer.created", data=customer_created_data(customer))
    audit_record(store=store, actor=Actor.system("checkout"), action="customer.created",
                 obj=customer, details={"email": email})
    return customer, True


def checkout_identity(*, customer: Customer, typed: PlayerIdentity) -> PlayerIdentity:
    """The snapshot an order freezes: what the buyer typed, with the stored UUID, Steam id and
    Discord id filled in where they typed none, but only when they typed the stored player
    name (the same player; a stranger typing someone's e-mail gets nothing of theirs)."""
    if customer.player_name != typed.player_name:
        return typed
    return replace(typed, uuid=typed.uuid or customer.minecraft_uuid,
                   steam_id=typed.steam_id or customer.steam_id,
                   discord_id=typed.discord_id or customer.discord_id)


IDENTITY_FIELDS = ("player_name", "minecraft_uuid", "steam_id", "discord_id")


def customer_record_paid_identity(*, store: Store, customer: Customer,
                                  identity: PlayerIdentity, name: str, country: str,
                                  given_at: datetime) -> bool:
    """Inside the payment's transaction: a paid order's snapshot becomes the customer's stored
    identity (docs/commerce.md, "What a paid order changes on the customer"), unless something
    newer was stored since that checkout (an owner's edit, a later paid checkout).

    The identity (player name, UUID, Steam id, Discord id) is replaced as a whole; name and
    country only when the checkout gave them. Orders already placed keep their own snapshot.
    Returns whether anything changed.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk, store=store)
    if customer.identity_at is not None and customer.identity_at > given_at:
        return False
    before = {f: getattr(customer, f) for f in (*IDENTITY_FIELDS, "name", "country")}
    customer.player_name, customer.minecraft_uuid = identity.player_name, identity.uuid
    # An id the customer proved by signing in stays: a paid order only fills unlinked ones.
    if customer.steam_linked_at is None:
        customer.steam_id = identity.steam_id
    if customer.discord_linked_at is None:
        customer.discord_id = identity.discord_id
    customer.name = name or customer.name
    customer.country = country or customer.country
    after = {f: getattr(customer, f) for f in before}
    customer.identity_at = given_at
    customer.updated_at = timezone.now()
    customer.save()
    changes = {k: {"old": before[k], "new": after[k]} for k in before if before[k] != after[k]}
    if changes:
        audit_record(store=store, actor=Actor.system("checkout"),
                     action="customer.identity_from_paid_order", obj=customer,
                     details={"changes": changes})
    return bool(changes)


@transaction.atomic
def customer_update(*, store: Store, actor: Actor, customer: Customer,
                    data: CustomerInput) -> Customer:
    require_permission(store, actor, Perm.CUSTOMERS_MANAGE)
    customer = Customer.objects.select_for_update().get(pk=customer.pk, store=store)
    before = {f: getattr(customer, f) for f in ("name", "country", *IDENTITY_FIELDS)}
    _apply(store, customer, data)
    for provider in LINK_PROVIDERS:
        # An edited id is the owner's word, no longer the provider's: it stops signing in.
        if getattr(customer, f"{provider}_id") != before[f"{provider}_id"]:
            setattr(customer, f"{provider}_linked_at", None)
    customer.updated_at = timezone.now()
    customer.save()
    after = {f: getattr(customer, f) for f in before}
    audit_record(store=store, actor=actor, action="customer.updated", obj=customer,
                 details={"changes": {k: {"old": before[k], "new": after[k]}
                                      for k in before if before[k] != after[k]}})
    return customer


# -- ids proved by signing in with Steam or Discord (shopkeep.signin) -------------------------

def customer_linked(*, store: Store, provider: str, uid: str) -> Customer | None:
    """The store's customer who signed in with this Steam or Discord id, if any."""
    if provider not in LINK_PROVIDERS or not uid:
        return None
    return Customer.objects.filter(store=store, **{f"{provider}_id": uid,
                                                   f"{provider}_linked_at__isnull": False}).first()


def _clean_uid(provider: str, uid: str) -> str:
    if provider == "steam":
        uid = clean_steam_id(uid)
    elif provider == "discord":
        uid = clean_discord_id(uid)
    else:
        raise ValueError(f"unknown sign-in provider {provider!r}")
    if not uid:
        raise ServiceError("invalid_uid", "The provider gave no account id.")
    return uid


def _set_link(customer: Customer, provider: str, uid: str, username: str) -> None:
    setattr(customer, f"{provider}_id", uid)
    setattr(customer, f"{provider}_username", _clean_text(username, f"{provider}_username", 64))
    setattr(customer, f"{provider}_linked_at", timezone.now())
    if provider == "steam" and customer.store.game in STEAM_GAMES:
        # On a Steam game the player identity is the Steam64 id.
        customer.player_name = uid


@transaction.atomic
def customer_link(*, store: Store, customer: Customer, provider: str, uid: str,
                  username: str) -> Customer:
    """Link a Steam or Discord id the customer proved by signing in with it.

    Refused when another customer of the store has it linked (one account signs in one
    customer). Relinking the same id only refreshes the username.
    """
    uid = _clean_uid(provider, uid)
    customer = Customer.objects.select_for_update().get(pk=customer.pk, store=store)
    holder = customer_linked(store=store, provider=provider, uid=uid)
    if holder is not None and holder.pk != customer.pk:
        raise ServiceError("already_linked", f"That {provider.title()} account is linked to "
                           "another customer of this store.")
    before = getattr(customer, f"{provider}_id") if getattr(
        customer, f"{provider}_linked_at") else ""
    _set_link(customer, provider, uid, username)
    customer.identity_at = timezone.now()
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise ServiceError("already_linked", f"That {provider.title()} account is linked to "
                           "another customer of this store.") from None
    if before != uid:
        audit_record(store=store, actor=Actor.system(f"{provider} sign-in"),
                     action="customer.linked", obj=customer,
                     details={"provider": provider, "old": before, "new": uid})
    return customer


@transaction.atomic
def customer_create_from_signin(*, store: Store, provider: str, uid: str, username: str,
                                email: str) -> Customer:
    """A new customer made by signing in with a provider that vouched for the e-mail address
    (Discord's verified e-mail): ``customer.created`` carries the provider's id and name."""
    uid = _clean_uid(provider, uid)
    email = clean_email(email)
    customer = Customer(store=store, email=email, referral_code=_new_referral_code(store))
    _set_link(customer, provider, uid, username)
    customer.identity_at = customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise ServiceError("already_linked", "That account or e-mail address already belongs "
                           "to a customer of this store; sign in again.") from None
    emit(store=store, event_type="customer.created", data=customer_created_data(customer))
    audit_record(store=store, actor=Actor.system(f"{provider} sign-in"),
                 action="customer.created", obj=customer,
                 details={"email": email, "provider": provider, "uid": uid})
    return customer
