"""Connecting a store's PayPal REST app, checked so seed 000's usual mistakes cannot happen.

"Unable to connect Stripe or PayPal" (seed 000) and its hints, each turned into a check with
a message that says what to do:
- live, not test, credentials: a live store refuses sandbox credentials; PayPal's refusal of
  the pair in the chosen mode says to check the Sandbox/Live switch of PayPal's dashboard;
- copied correctly, no extra spaces: trimmed, and a space inside either value is refused;
- an account PayPal has fully verified: the token's granted scopes must include taking
  payments, or the connection is refused ("Unable to verify account: ...");
- the webhook configured: Shopkeep reads the app's webhooks and creates this store's one when
  it is missing, or adds the event types it lacks, so the owner never types the URL.

The client secret is sealed (``payments.sealed``) and never shown again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.payments.gateways.paypal_api import PayPalAPI
from shopkeep.payments.models import PayPalConnection
from shopkeep.payments.paypal_events import EVENTS
from shopkeep.payments.sealed import seal
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm
from shopkeep.subscriptions.models import Subscription

_CREDENTIAL_RE = re.compile(r"^[A-Za-z0-9_\-]{20,200}$")
_SPACE_RE = re.compile(r"\s")
PAYMENT_SCOPE = "https://uri.paypal.com/services/payments/payment/authcapture"
MODES = ("sandbox", "live")


def webhook_url(store: Store, *, request: HttpRequest | None = None) -> str:
    return absolute_url(reverse("payments:paypal_webhook", args=[store.public_id]),
                        request=request)


def _clean(raw: str, *, field: str, what: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise ServiceError("required", f"Paste the {what}.", field=field)
    if _SPACE_RE.search(value):
        raise ServiceError("invalid_credentials", f"The {what} has a space or line break "
                           "inside it. Copy it again from PayPal (Apps & Credentials > your "
                           "app).", field=field)
    if not _CREDENTIAL_RE.match(value):
        raise ServiceError("invalid_credentials", f"That does not look like a PayPal {what}: "
                           "it is letters, digits, '-' and '_', usually 80 characters.",
                           field=field)
    return value


@dataclass(frozen=True)
class VerifiedApp:
    webhook_id: str
    webhook_created: bool


def verify_app(*, store: Store, client_id: str, client_secret: str, mode: str,
               request: HttpRequest | None = None) -> VerifiedApp:
    """Get a token, check it may take payments, and make sure this store's webhook exists
    with every event type Shopkeep needs. Outside any transaction (PayPal may be slow)."""
    api = PayPalAPI(client_id=client_id, client_secret=client_secret, mode=mode)
    label = "Live" if mode == "live" else "Sandbox"
    try:
        api.forget_token()
        _, scopes = api.token()
    except GatewayError as exc:
        if exc.code in ("invalid_client", "unauthorized_client", "invalid_request"):
            raise ServiceError("paypal_credentials_refused", (
                f"PayPal refused this Client ID and Secret for {mode}. Check that they are the "
                f"{label} app's credentials (PayPal Developer Dashboard > Apps & Credentials, "
                f"with the Sandbox/Live switch on {label}), copied without extra spaces."),
                field="client_secret") from None
        raise ServiceError("paypal_unreachable", f"PayPal could not check the credentials: "
                           f"{exc.message}", field="client_id") from None
    if PAYMENT_SCOPE not in scopes.split():
        raise ServiceError("paypal_unverified", "Unable to verify account: this PayPal app "
                           "may not take payments yet. Make sure the PayPal business account "
                           "is fully verified and the app has \"Accept payments\" turned on, "
                           "then connect again.", field="client_id")
    url = webhook_url(store, request=request)
    try:
        hooks = api.call("GET", "/v1/notifications/webhooks").get("webhooks") or []
        ours = next((h for h in hooks if h.get("url") == url), None)
        if ours is None:
            created = api.call("POST", "/v1/notifications/webhooks", json={
                "url": url, "event_types": [{"name": e} for e in EVENTS]})
            return VerifiedApp(webhook_id=str(created["id"]), webhook_created=True)
        names = {t.get("name") for t in ours.get("event_types") or []}
        missing = [e for e in EVENTS if e not in names]
        if missing and "*" not in names:
            api.call("PATCH", f"/v1/notifications/webhooks/{ours['id']}", json=[{
                "op": "replace", "path": "/event_types",
                "value": [{"name": n} for n in sorted(names | set(EVENTS))]}])
        return VerifiedApp(webhook_id=str(ours["id"]), webhook_created=False)
    except GatewayError as exc:
        hint = {"webhook_number_limit_exceeded": "PayPal allows 10 webhooks per app: delete "
                "one you no longer use in the app's settings, then connect again.",
                "invalid_parameter_syntax": f"PayPal refused the webhook URL {url} (it must be "
                "public and use https). Set SHOPKEEP_SITE_URL to the store's public https "
                "address."}.get(exc.code, exc.message)
        raise ServiceError("webhook_missing", f"The webhook could not be configured at PayPal: "
                           f"{hint}", field="client_id") from None


def paypal_connect(*, store: Store, actor: Actor, client_id: str, client_secret: str,
                   mode: str, request: HttpRequest | None = None) -> PayPalConnection:
    """Check, verify with PayPal (creating the webhook if needed), then store sealed."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    if mode not in MODES:
        raise ServiceError("invalid_mode", "Choose sandbox or live.", field="mode")
    cid = _clean(client_id, field="client_id", what="Client ID")
    secret = _clean(client_secret, field="client_secret", what="Secret")
    if cid == secret:
        raise ServiceError("invalid_credentials", "The Client ID was pasted into both fields: "
                           "the Secret is below it in PayPal (Show).", field="client_secret")
    if mode == "sandbox" and not store.test_mode:
        raise ServiceError("sandbox_on_live_store", "These are sandbox credentials but the "
                           "store is live. Use the live app's credentials (switch PayPal's "
                           "dashboard to Live), or turn on test mode in General settings "
                           "first.", field="mode")
    app = verify_app(store=store, client_id=cid, client_secret=secret, mode=mode,
                     request=request)
    return _save(store=store, actor=actor, client_id=cid, secret=secret, mode=mode, app=app)


@transaction.atomic
def _save(*, store: Store, actor: Actor, client_id: str, secret: str, mode: str,
          app: VerifiedApp) -> PayPalConnection:
    connection = PayPalConnection.objects.select_for_update().filter(store=store).first()
    replaced = connection is not None
    if connection is None:
        connection = PayPalConnection(store=store)
    same_webhook = replaced and connection.webhook_id == app.webhook_id
    connection.mode = mode
    connection.client_id = client_id
    connection.client_secret_sealed = seal(secret,
                                           context=connection.seal_context("client_secret"))
    connection.client_secret_last4 = secret[-4:]
    connection.webhook_id = app.webhook_id
    connection.webhook_created = app.webhook_created
    connection.connected_at = timezone.now()
    connection.connected_by = actor.label[:200]
    connection.last_signature_failure_at = None
    if not same_webhook:
        connection.first_event_at = connection.last_event_at = None
        connection.last_event_type = ""
    connection.save()
    audit_record(store=store, actor=actor, action="payments.paypal_connected", obj=connection,
                 details={"mode": mode, "client_id": f"{client_id[:8]}…",
                          "webhook_id": app.webhook_id, "webhook_created": app.webhook_created,
                          "replaced": replaced})
    return connection


@transaction.atomic
def paypal_disconnect(*, store: Store, actor: Actor) -> None:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    connection = PayPalConnection.objects.select_for_update().filter(store=store).first()
    if connection is None:
        raise Conflict("not_connected", "PayPal is not connected.")
    live = Subscription.objects.filter(
        store=store, payment_gateway="paypal", ended_at__isnull=True,
        status__in=["active", "trialing", "past_due"]).count()
    if live:
        raise Conflict("live_subscriptions", f"{live} subscription(s) are billed through "
                       "PayPal. Without the connection Shopkeep would no longer hear about "
                       "their renewals; cancel them first, or connect new credentials instead.")
    audit_record(store=store, actor=actor, action="payments.paypal_disconnected",
                 obj=connection, details={"mode": connection.mode})
    connection.delete()


def paypal_status(*, store: Store, request: HttpRequest | None = None) -> dict:
    """What the settings page and the API show: never the secret, its last four only."""
    connection = PayPalConnection.objects.filter(store=store).first()
    status: dict = {"connected": connection is not None,
                    "webhook_url": webhook_url(store, request=request), "events": list(EVENTS),
                    "store_test_mode": store.test_mode, "problem": ""}
    if connection is None:
        return status
    status.update({
        "mode": connection.mode, "client_id": connection.client_id,
        "client_secret_hint": f"…{connection.client_secret_last4}",
        "webhook_id": connection.webhook_id, "webhook_created": connection.webhook_created,
        "connected_at": connection.connected_at, "connected_by": connection.connected_by,
        "first_event_at": connection.first_event_at, "last_event_at": connection.last_event_at,
        "last_event_type": connection.last_event_type,
        "last_signature_failure_at": connection.last_signature_failure_at,
    })
    if not connection.livemode and not store.test_mode:
        status["problem"] = ("The store is live but PayPal is connected with sandbox "
                             "credentials: PayPal is not offered at checkout until you connect "
                             "the live app.")
    elif connection.livemode and store.test_mode:
        status["problem"] = ("The store is in test mode, so PayPal is not offered at checkout; "
                             "these live credentials take payments once test mode is off.")
    return status
