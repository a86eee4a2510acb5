from __future__ import annotations

from dataclasses import dataclass

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
    clean_discord_id,
    clean_minecraft_uuid,
    clean_player,
    clean_steam_id,
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


def _new_referral_code(store: Store) -> str:
    for _ in range(10):
        code = random_string(8, _REFERRAL_ALPHABET)
        if not Customer.objects.filter(store=store, referral_code=code).exists():
            return code
    raise RuntimeError("could not find a free referral code")


def _apply(store: Store, customer: Customer, data: CustomerInput) -> None:
    customer.name = _clean_text(data.name, "name", 150)
    customer.country = clean_country(data.country)
    customer.player_name = clean_player(store.game, data.player_name)
    customer.minecraft_uuid = clean_minecraft_uuid(data.minecraft_uuid)
    customer.steam_id = clean_steam_id(data.steam_id)
    if store.game in STEAM_GAMES and not customer.steam_id:
        customer.steam_id = customer.player_name  # for Steam games the identity is the Steam64
    customer.steam_username = _clean_text(data.steam_username, "steam_username", 64)
    customer.discord_id = clean_discord_id(data.discord_id)
    customer.discord_username = _clean_text(data.discord_username, "discord_username", 64)


@transaction.atomic
def customer_upsert(*, store: Store, data: CustomerInput) -> tuple[Customer, bool]:
    """Find the store's customer by e-mail or create one (checkout, sign-up).

    An existing customer's identity is updated to what they typed this time: the player name
    of the newest purchase is the one to deliver to. ``customer.created`` fires only once.
    """
    email = clean_email(data.email)
    customer = Customer.objects.select_for_update().filter(store=store, email=email).first()
    created = customer is None
    if created:
        customer = Customer(store=store, email=email, referral_code=_new_referral_code(store))
        code = (data.referred_by_code or "").strip().upper()
        if code:
            customer.referred_by = Customer.objects.filter(store=store,
                                                           referral_code=code).first()
    _apply(store, customer, data)
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # A concurrent checkout with the same e-mail created the row first: use it.
        customer = Customer.objects.get(store=store, email=email)
        return customer, False
    if created:
        emit(store=store, event_type="customer.created", data=customer_created_data(customer))
        audit_record(store=store, actor=Actor.system("checkout"), action="customer.created",
                     obj=customer, details={"email": email})
    return customer, created


@transaction.atomic
def customer_update(*, store: Store, actor: Actor, customer: Customer,
                    data: CustomerInput) -> Customer:
    require_permission(store, actor, Perm.CUSTOMERS_MANAGE)
    customer = Customer.objects.select_for_update().get(pk=customer.pk, store=store)
    before = {f: getattr(customer, f) for f in ("name", "country", "player_name", "steam_id",
                                                "discord_id")}
    _apply(store, customer, data)
    customer.updated_at = timezone.now()
    customer.save()
    after = {f: getattr(customer, f) for f in before}
    audit_record(store=store, actor=actor, action="customer.updated", obj=customer,
                 details={"changes": {k: {"old": before[k], "new": after[k]}
                                      for k in before if before[k] != after[k]}})
    return customer
