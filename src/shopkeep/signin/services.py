"""Sign-in attempts (start, verified, finished) and what a finished sign-in does to the store's
customers. Each step is one conditional write, so an attempt finishes at most once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from shopkeep.core.errors import ServiceError
from shopkeep.customers.models import Customer
from shopkeep.customers.services import (
    customer_create_from_signin,
    customer_link,
    customer_linked,
)
from shopkeep.payments.sealed import seal
from shopkeep.signin.models import Provider, SigninAttempt, SigninSettings
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

ATTEMPT_TTL = timedelta(minutes=10)
INVALID = ("This sign-in was already used, has expired or was started in another browser. "
           "Please try again.")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def attempt_start(*, store: Store, provider: str, binding: str, next_path: str,
                  finish_url: str, redirect_uri: str = "", app_source: str = "",
                  code_verifier: str = "") -> SigninAttempt:
    if provider not in Provider.values:
        raise ValueError(provider)
    now = timezone.now()
    return SigninAttempt.objects.create(
        store=store, provider=provider, state=new_secret(), binding_hash=digest(binding),
        next_path=next_path, finish_url=finish_url, redirect_uri=redirect_uri,
        app_source=app_source, code_verifier=code_verifier, created_at=now,
        expires_at=now + ATTEMPT_TTL)


def attempt_open(*, provider: str, state: str, store: Store | None = None) -> SigninAttempt | None:
    """The attempt a provider's callback names: unexpired, not yet verified nor used."""
    if not state or len(state) > 64:
        return None
    qs = SigninAttempt.objects.select_related("store").filter(
        provider=provider, state=state, verified_at=None, used_at=None,
        expires_at__gt=timezone.now())
    if store is not None:
        qs = qs.filter(store=store)
    return qs.first()


def attempt_fail(*, attempt: SigninAttempt, reason: str) -> None:
    SigninAttempt.objects.filter(pk=attempt.pk, used_at=None).update(
        used_at=timezone.now(), failure=reason[:64])


def attempt_verified(*, attempt: SigninAttempt, uid: str, username: str, email: str = "",
                     email_verified: bool = False) -> str:
    """Record what the provider vouched for; returns the ticket only the browser the provider
    sent back receives."""
    ticket = new_secret()
    updated = SigninAttempt.objects.filter(
        pk=attempt.pk, verified_at=None, used_at=None, expires_at__gt=timezone.now()).update(
        uid=uid, username=username[:64], email=email[:254] if email_verified else "",
        email_verified=email_verified, ticket_hash=digest(ticket), verified_at=timezone.now())
    if updated != 1:
        raise ServiceError("signin_invalid", INVALID)
    return ticket


def attempt_finish(*, store: Store, state: str, ticket: str, binding: str) -> SigninAttempt:
    """Use the attempt once. It needs the ticket (the browser the provider sent back) and the
    binding (the browser that started it); a mismatch uses the attempt up as well."""
    attempt = (SigninAttempt.objects.filter(store=store, state=state).first()
               if state and len(state) <= 64 else None)
    if attempt is None:
        raise ServiceError("signin_invalid", INVALID)
    ok = (attempt.verified_at is not None and attempt.expires_at > timezone.now()
          and hmac.compare_digest(attempt.ticket_hash, digest(ticket or ""))
          and hmac.compare_digest(attempt.binding_hash, digest(binding or "")))
    used = SigninAttempt.objects.filter(pk=attempt.pk, used_at=None).update(
        used_at=timezone.now(), failure="" if ok else "ticket_or_binding_mismatch")
    if used != 1 or not ok:
        raise ServiceError("signin_invalid", INVALID)
    return attempt


@dataclass(frozen=True)
class SigninResult:
    customer: Customer | None  # the customer now signed in, None: identity kept for checkout
    created: bool = False
    message: str = ""


def signin_apply(*, store: Store, attempt: SigninAttempt,
                 signed_in: Customer | None) -> SigninResult:
    """What a finished sign-in does (docs/steam.md, "Which customer a sign-in opens"):

    1. an account already linked to a customer signs that customer in;
    2. a signed-in customer gets the account linked;
    3. a verified e-mail from the provider (Discord) opens that customer, creating it if the
       store has none (``customer.created`` with the provider's id and name);
    4. otherwise nobody is signed in: the verified id is kept for checkout and is linked when
       the buyer signs in by e-mail or checks out as a new customer.
    """
    provider, name = attempt.provider, Provider(attempt.provider).label
    holder = customer_linked(store=store, provider=provider, uid=attempt.uid)
    if holder is not None:
        if holder.__dict__.get(f"{provider}_username") != attempt.username and attempt.username:
            holder = customer_link(store=store, customer=holder, provider=provider,
                                   uid=attempt.uid, username=attempt.username)
        return SigninResult(holder, message=f"Signed in with {name} as {holder.email}.")
    if signed_in is not None:
        customer = customer_link(store=store, customer=signed_in, provider=provider,
                                 uid=attempt.uid, username=attempt.username)
        return SigninResult(customer, message=f"{name} account {attempt.username or attempt.uid}"
                            " is now linked to your account.")
    if attempt.email_verified and attempt.email:
        existing = Customer.objects.filter(store=store, email=attempt.email.lower()).first()
        if existing is not None:
            customer = customer_link(store=store, customer=existing, provider=provider,
                                     uid=attempt.uid, username=attempt.username)
            return SigninResult(customer, message=f"Signed in with {name} as {customer.email}.")
        customer = customer_create_from_signin(store=store, provider=provider, uid=attempt.uid,
                                               username=attempt.username, email=attempt.email)
        return SigninResult(customer, created=True,
                            message=f"Signed in with {name}; your account is {customer.email}.")
    return SigninResult(None, message=f"Signed in with {name} as "
                        f"{attempt.username or attempt.uid}.")


@transaction.atomic
def signin_settings_update(*, store: Store, actor: Actor, discord_enabled: bool,
                           steam_enabled: bool, steam_required: bool,
                           discord_client_id: str | None = None,
                           discord_client_secret: str | None = None,
                           clear_discord_app: bool = False) -> SigninSettings:
    """Settings > Sign-in. ``discord_client_id``/``discord_client_secret`` None: unchanged; the
    pair is given together; ``clear_discord_app`` goes back to the platform's application."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    row, _ = SigninSettings.objects.select_for_update().get_or_create(store=store)
    before = {"discord_enabled": row.discord_enabled, "steam_enabled": row.steam_enabled,
              "steam_required": row.steam_required, "discord_client_id": row.discord_client_id}
    row.discord_enabled, row.steam_enabled = discord_enabled, steam_enabled
    row.steam_required = steam_required
    if clear_discord_app:
        row.discord_client_id, row.discord_client_secret = "", ""
    elif discord_client_id is not None or discord_client_secret is not None:
        client_id = (discord_client_id or "").strip()
        secret = (discord_client_secret or "").strip()
        if not (client_id.isascii() and client_id.isdigit() and 17 <= len(client_id) <= 20):
            raise ServiceError("invalid_client_id", "A Discord application id has 17 to 20 "
                               "digits (Developer Portal > your application > OAuth2).",
                               field="discord_client_id")
        if not (8 <= len(secret) <= 200 and secret.isascii() and secret.isprintable()
                and " " not in secret):
            raise ServiceError("invalid_client_secret", "Paste the client secret from the "
                               "Developer Portal (OAuth2 > Client secret).",
                               field="discord_client_secret")
        row.discord_client_id = client_id
        row.discord_client_secret = seal(secret, context=row.seal_context())
    row.updated_at = timezone.now()
    row.save()
    after = {"discord_enabled": row.discord_enabled, "steam_enabled": row.steam_enabled,
             "steam_required": row.steam_required, "discord_client_id": row.discord_client_id}
    changes = {k: {"old": before[k], "new": after[k]} for k in before if before[k] != after[k]}
    if discord_client_secret is not None and not clear_discord_app:
        changes["discord_client_secret"] = {"old": "…", "new": "replaced"}
    audit_record(store=store, actor=actor, action="signin.settings_updated", obj=row,
                 details={"changes": changes})
    return row
