"""Connecting a store's Stripe account, checked so the usual setup mistakes cannot happen.

Seed 000's "Payment Gateway Not Working" lists what owners get wrong; each is refused here,
with a message that says what to do:
- keys pasted with spaces or line breaks: trimmed, and a space inside a key is refused;
- the wrong kind of key (publishable ``pk_``, restricted ``rk_``, a signing secret in the key
  field): refused by shape (``sk_live_``/``sk_test_``, ``whsec_``);
- test keys on a live store: refused unless the store is in test mode;
- an account Stripe has not verified: the key is checked against Stripe's API on save, and a
  live account that cannot take charges yet is refused ("Unable to verify account: ...");
- no webhook endpoint configured: the account's endpoints are read and one must point at this
  store's exact URL, enabled, with every event Shopkeep needs.

Secrets are sealed (``payments.sealed``) and never shown again: status shows the last four.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import stripe
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.payments.gateways.stripe import client_for, dig, error_reason
from shopkeep.payments.gateways.stripe_events import EVENTS
from shopkeep.payments.models import StripeConnection
from shopkeep.payments.sealed import seal
from shopkeep.payments.selectors import checkout_gateway
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm
from shopkeep.subscriptions.models import Subscription

_KEY_RE = re.compile(r"^sk_(live|test)_[A-Za-z0-9]{10,250}$")
_WHSEC_RE = re.compile(r"^whsec_[A-Za-z0-9+/=]{10,250}$")
_SPACE_RE = re.compile(r"\s")
MAX_PASTE = 1000


def webhook_url(store: Store, *, request: HttpRequest | None = None) -> str:
    return absolute_url(reverse("payments:stripe_webhook", args=[store.public_id]),
                        request=request)


def _trimmed(raw: str, *, field: str, what: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise ServiceError("required", f"Paste your {what}.", field=field)
    if len(value) > MAX_PASTE:
        raise ServiceError("invalid_key", f"That is too long to be a {what}.", field=field)
    if _SPACE_RE.search(value):
        raise ServiceError("invalid_key", f"The {what} has a space or line break inside it. "
                           "Copy it again with Stripe's copy button.", field=field)
    return value


def clean_secret_key(raw: str) -> str:
    key = _trimmed(raw, field="secret_key", what="Stripe secret key")
    if key.startswith("pk_"):
        raise ServiceError("invalid_key", "That is a publishable key (pk_...). Paste the secret "
                           "key (sk_live_... or sk_test_...) from Developers > API keys.",
                           field="secret_key")
    if key.startswith("rk_"):
        raise ServiceError("invalid_key", "Restricted keys (rk_...) are not supported yet. "
                           "Paste the secret key (sk_live_... or sk_test_...).",
                           field="secret_key")
    if key.startswith("whsec_"):
        raise ServiceError("invalid_key", "That is a webhook signing secret; it goes in the "
                           "second field. Paste the secret key (sk_...) here.",
                           field="secret_key")
    if not _KEY_RE.match(key):
        raise ServiceError("invalid_key", "A Stripe secret key starts with sk_live_ or sk_test_ "
                           "followed by letters and digits.", field="secret_key")
    return key


def clean_webhook_secret(raw: str) -> str:
    secret = _trimmed(raw, field="webhook_secret", what="webhook signing secret")
    if not _WHSEC_RE.match(secret):
        raise ServiceError("invalid_webhook_secret", "A webhook signing secret starts with "
                           "whsec_. Find it in Stripe under Developers > Webhooks > your "
                           "endpoint > Signing secret.", field="webhook_secret")
    return secret


@dataclass(frozen=True)
class VerifiedAccount:
    account_id: str
    name: str
    livemode: bool


def _unverified(reason: str) -> ServiceError:
    return ServiceError("stripe_unverified", f"Unable to verify account: {reason}",
                        field="secret_key")


def verify_account(*, store: Store, secret_key: str,
                   request: HttpRequest | None = None) -> VerifiedAccount:
    """Ask Stripe who the key belongs to and whether the webhook is set up. Outside any
    transaction: a slow Stripe must not hold locks."""
    livemode = secret_key.startswith("sk_live_")
    client = client_for(secret_key)
    try:
        account = client.v1.accounts.retrieve_current()
        endpoints = client.v1.webhook_endpoints.list({"limit": 100}).data
    except stripe.StripeError as exc:
        raise _unverified(error_reason(exc)) from None
    if livemode and not (dig(account, "charges_enabled") and dig(account, "details_submitted")):
        raise _unverified(f"Stripe has not enabled payments on {account.id} yet. Finish the "
                          "account's verification in Stripe's dashboard, then connect again.")
    url = webhook_url(store, request=request)
    matching = [e for e in endpoints if dig(e, "url") == url]
    if not matching:
        raise ServiceError("webhook_missing", f"No webhook endpoint in this Stripe account "
                           f"points to {url}. Add it in Stripe (Developers > Webhooks > Add "
                           "endpoint) with the events listed on this page, then paste its "
                           "signing secret.", field="webhook_secret")
    enabled = [e for e in matching if dig(e, "status") == "enabled"]
    if not enabled:
        raise ServiceError("webhook_disabled", "The webhook endpoint for this store is "
                           "disabled in Stripe. Enable it, then connect again.",
                           field="webhook_secret")
    best = min(enabled, key=lambda e: len(set(EVENTS) - set(dig(e, "enabled_events",
                                                                   default=[]))))
    selected = set(dig(best, "enabled_events", default=[]))
    missing = [] if "*" in selected else [e for e in EVENTS if e not in selected]
    if missing:
        raise ServiceError("webhook_events_missing", "The webhook endpoint in Stripe does not "
                           "send " + ", ".join(missing) + ". Add these events to it, then "
                           "connect again.", field="webhook_secret")
    name = (dig(account, "business_profile", "name")
            or dig(account, "settings", "dashboard", "display_name") or "")
    return VerifiedAccount(account_id=account.id, name=str(name)[:200], livemode=livemode)


def stripe_connect(*, store: Store, actor: Actor, secret_key: str, webhook_secret: str,
                   request: HttpRequest | None = None) -> StripeConnection:
    """Check, verify with Stripe, then store sealed. Replaces an earlier connection."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    key = clean_secret_key(secret_key)
    whsec = clean_webhook_secret(webhook_secret)
    if key.startswith("sk_test_") and not store.test_mode:
        raise ServiceError("test_key_on_live_store", "This is a test key (sk_test_...) but the "
                           "store is live. Paste the live key (sk_live_...), or turn on test "
                           "mode in General settings first.", field="secret_key")
    # The request only names the origin the webhook URL must match (see core.absolute).
    account = verify_account(store=store, secret_key=key, request=request)
    return _save(store=store, actor=actor, key=key, whsec=whsec, account=account)


@transaction.atomic
def _save(*, store: Store, actor: Actor, key: str, whsec: str,
          account: VerifiedAccount) -> StripeConnection:
    connection = StripeConnection.objects.select_for_update().filter(store=store).first()
    replaced = connection is not None
    if connection is None:
        connection = StripeConnection(store=store)
    same_endpoint = replaced and connection.account_id == account.account_id and \
        connection.livemode == account.livemode
    connection.account_id = account.account_id
    connection.account_name = account.name
    connection.livemode = account.livemode
    connection.secret_key_sealed = seal(key, context=connection.seal_context("secret_key"))
    connection.secret_key_last4 = key[-4:]
    connection.webhook_secret_sealed = seal(whsec,
                                            context=connection.seal_context("webhook_secret"))
    connection.webhook_secret_last4 = whsec[-4:]
    connection.connected_at = timezone.now()
    connection.connected_by = actor.label[:200]
    connection.last_signature_failure_at = None
    if not same_endpoint:
        # Another account or mode: what arrived before says nothing about the new endpoint.
        connection.first_event_at = connection.last_event_at = None
        connection.last_event_type = ""
    connection.save()
    audit_record(store=store, actor=actor, action="payments.stripe_connected", obj=connection,
                 details={"account_id": account.account_id, "livemode": account.livemode,
                          "secret_key": f"…{key[-4:]}", "replaced": replaced})
    return connection


@transaction.atomic
def stripe_disconnect(*, store: Store, actor: Actor) -> None:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    connection = StripeConnection.objects.select_for_update().filter(store=store).first()
    if connection is None:
        raise Conflict("not_connected", "Stripe is not connected.")
    live = Subscription.objects.filter(
        store=store, payment_gateway="stripe", ended_at__isnull=True,
        status__in=["active", "trialing", "past_due"]).count()
    if live:
        raise Conflict("live_subscriptions", f"{live} subscription(s) are billed through "
                       "Stripe. Without the connection Shopkeep would no longer hear about "
                       "their renewals; cancel them first, or connect new keys instead.")
    audit_record(store=store, actor=actor, action="payments.stripe_disconnected", obj=connection,
                 details={"account_id": connection.account_id,
                          "livemode": connection.livemode})
    connection.delete()


def stripe_status(*, store: Store, request: HttpRequest | None = None) -> dict:
    """What the settings page and the API show. Never a secret: mode and last four only."""
    connection = StripeConnection.objects.filter(store=store).first()
    status: dict = {"connected": connection is not None,
                    "webhook_url": webhook_url(store, request=request),
                    "events": list(EVENTS), "store_test_mode": store.test_mode,
                    "checkout_gateway": checkout_gateway(store=store), "problem": ""}
    if connection is None:
        return status
    prefix = "sk_live_" if connection.livemode else "sk_test_"
    status.update({
        "account_id": connection.account_id, "account_name": connection.account_name,
        "mode": "live" if connection.livemode else "test",
        "secret_key_hint": f"{prefix}…{connection.secret_key_last4}",
        "webhook_secret_hint": f"whsec_…{connection.webhook_secret_last4}",
        "connected_at": connection.connected_at, "connected_by": connection.connected_by,
        "first_event_at": connection.first_event_at, "last_event_at": connection.last_event_at,
        "last_event_type": connection.last_event_type,
        "last_signature_failure_at": connection.last_signature_failure_at,
    })
    if not connection.livemode and not store.test_mode:
        status["problem"] = ("The store is live but the connected key is a test key: checkout "
                             "is refused until you connect a live key (sk_live_...).")
    elif connection.livemode and store.test_mode:
        status["problem"] = ("The store is in test mode, so checkout uses the sandbox; this "
                             "live key takes payments once test mode is off.")
    return status
