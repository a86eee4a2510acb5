"""Stripe behind the gateway interface, through the official ``stripe`` library.

One ``StripeGateway`` per store: each store connects its own Stripe account
(``payments.stripe_connect``). Payments use Stripe Checkout (a hosted page); the order is paid
only when a *signed* webhook says so (``payments.stripe_webhook``), never from the buyer's
return to ``success_url``.

Stripe's own HTTP calls happen here and nowhere else. They run outside database transactions
(see ``base.py``); the library retries network failures itself with idempotency keys.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from shopkeep.orders.models import Order
from shopkeep.payments.gateways import register
from shopkeep.payments.gateways.base import (
    CallbackRejected,
    CheckoutRequest,
    CheckoutStart,
    GatewayError,
    Notice,
    RefundResult,
    SubscriptionState,
)
from shopkeep.payments.gateways.stripe_events import notices_for
from shopkeep.payments.gateways.stripe_objects import STATES, dig, id_of
from shopkeep.payments.models import StripeConnection
from shopkeep.payments.sealed import SealError, unseal

logger = logging.getLogger("shopkeep.payments.stripe")
SIGNATURE_TOLERANCE = 300  # seconds, Stripe's recommendation; older signatures are replays
# Stripe's minimum is 30 minutes from "now" at Stripe; a little more absorbs clock skew. The
# order's stock hold is 30 minutes too, and a payment after it is still honoured.
CHECKOUT_LIFETIME = timedelta(minutes=35)
_SECRET_RE = re.compile(r"\b(sk|rk|pk|whsec)_(live_|test_)?[A-Za-z0-9]{4,}")

def scrub(text: str) -> str:
    """Stripe masks keys in its messages already; this makes sure, before we show or log."""
    return _SECRET_RE.sub(lambda m: f"{m.group(1)}_{m.group(2) or ''}…", text or "")


def client_for(secret_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key, base_addresses={"api": settings.STRIPE_API_BASE}, max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS))


def error_reason(exc: stripe.StripeError) -> str:
    if isinstance(exc, stripe.APIConnectionError):
        return "Stripe could not be reached; try again in a minute."
    return scrub(exc.user_message or str(exc) or type(exc).__name__)


def gateway_error(exc: stripe.StripeError) -> GatewayError:
    code = exc.code or {stripe.AuthenticationError: "authentication_failed",
                        stripe.APIConnectionError: "gateway_unreachable",
                        stripe.IdempotencyError: "idempotency_error",
                        stripe.APIError: "api_error",
                        stripe.RateLimitError: "rate_limited",
                        stripe.PermissionError: "permission_denied"}.get(type(exc), "stripe_error")
    return GatewayError(code, error_reason(exc))


class StripeGateway:
    name = "stripe"
    label = "Stripe"
    icon = "stripe.svg"

    def __init__(self, connection: StripeConnection) -> None:
        self.connection = connection

    @classmethod
    def for_store(cls, store) -> StripeGateway:
        connection = StripeConnection.objects.filter(store=store).first()
        if connection is None:
            raise GatewayError("not_connected", "This store has not connected Stripe.")
        return cls(connection)

    @property
    def client(self) -> stripe.StripeClient:
        try:
            key = unseal(self.connection.secret_key_sealed,
                         context=self.connection.seal_context("secret_key"))
        except SealError as exc:
            logger.error("store %s: cannot open the Stripe key: %s", self.connection.store_id,
                         exc)
            raise GatewayError("secret_unreadable", "The stored Stripe key cannot be decrypted; "
                               "check SHOPKEEP_PAYMENT_ENCRYPTION_KEYS or connect again.") from None
        return client_for(key)

    # -- outbound --------------------------------------------------------------------------

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        if self.connection.livemode == request.test_mode:
            raise GatewayError("mode_mismatch", (
                "The store is live but its Stripe key is a test key: connect a live key."
                if not request.test_mode else
                "The store is in test mode but its Stripe key is live: no real payments in "
                "test mode."))
        client = self.client
        self._close_earlier_session(client, request.reference)
        metadata = {"shopkeep_order": request.reference, "shopkeep_store": request.store_public_id}
        price_data: dict[str, Any] = {
            "currency": request.currency.lower(), "unit_amount": request.amount_minor,
            "product_data": {"name": (request.description or request.reference)[:250]}}
        params: dict[str, Any] = {
            "success_url": request.success_url, "cancel_url": request.cancel_url,
            "client_reference_id": request.reference, "customer_email": request.customer_email,
            "metadata": metadata,
            "expires_at": int((timezone.now() + CHECKOUT_LIFETIME).timestamp())}
        if request.subscription is None:
            params["mode"] = "payment"
            params["payment_intent_data"] = {"metadata": metadata,
                                             "description": f"Order {request.reference}"}
        else:
            params["mode"] = "subscription"
            price_data["recurring"] = {"interval": request.subscription.interval}
            params["subscription_data"] = {"metadata": metadata}
            if request.subscription.trial_days:
                params["subscription_data"]["trial_period_days"] = request.subscription.trial_days
            if request.first_period_credit_minor > 0:
                # A tier upgrade: the price is the full recurring one, and a single-use
                # coupon takes the credit off the first invoice only (duration "once").
                price_data["unit_amount"] = (request.amount_minor
                                             + request.first_period_credit_minor)
                try:
                    coupon = client.v1.coupons.create(
                        {"amount_off": request.first_period_credit_minor,
                         "currency": request.currency.lower(), "duration": "once",
                         "max_redemptions": 1, "name": "Upgrade credit",
                         "metadata": metadata},
                        {"idempotency_key": f"shopkeep-upgrade-{request.reference}"})
                except stripe.StripeError as exc:
                    raise gateway_error(exc) from None
                params["discounts"] = [{"coupon": coupon.id}]
        params["line_items"] = [{"quantity": 1, "price_data": price_data}]
        try:
            session = client.v1.checkout.sessions.create(params)
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None
        return CheckoutStart(session_id=session.id, redirect_url=session.url)

    def _close_earlier_session(self, client: stripe.StripeClient, reference: str) -> None:
        """One open payment page per order: a retry expires the earlier Stripe session, and
        refuses when the earlier one was already paid (its webhook is on the way)."""
        earlier = (Order.objects.filter(order_number=reference, payment_gateway=self.name)
                   .values_list("gateway_session_id", flat=True).first())
        if not earlier:
            return
        try:
            session = client.v1.checkout.sessions.retrieve(earlier)
            if session.status == "complete":
                raise GatewayError("already_paid", "This order is already paid; its "
                                   "confirmation is on the way.")
            if session.status == "open":
                client.v1.checkout.sessions.expire(earlier)
        except stripe.InvalidRequestError:
            return  # gone at Stripe (another account, or purged): nothing left to close
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None

    def refund(self, *, payment_id: str, amount_minor: int, currency: str, reason: str,
               idempotency_key: str) -> RefundResult:
        client = self.client
        params: dict[str, Any] = {
            "amount": amount_minor, "reason": "requested_by_customer",
            "metadata": {"shopkeep_refund_key": idempotency_key,
                         "shopkeep_reason": (reason or "")[:500]}}
        try:
            if payment_id.startswith("in_"):
                params.update(self._invoice_payment(client, payment_id))
            elif payment_id.startswith("ch_"):
                params["charge"] = payment_id
            else:
                params["payment_intent"] = payment_id
            refund = client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None
        if refund.status in ("failed", "canceled"):
            raise GatewayError(dig(refund, "failure_reason") or "refund_failed",
                               "Stripe could not refund this payment.")
        return RefundResult(refund_id=refund.id,
                            status="succeeded" if refund.status == "succeeded" else "pending")

    def refund_lookup(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        """Our refund is the one carrying our key in its metadata (the idempotency key itself
        cannot be searched, and Stripe prunes it after 24 hours)."""
        client = self.client
        try:
            if payment_id.startswith("in_"):
                filters: dict[str, Any] = self._invoice_payment(client, payment_id)
            elif payment_id.startswith("ch_"):
                filters = {"charge": payment_id}
            else:
                filters = {"payment_intent": payment_id}
            for refund in client.v1.refunds.list({**filters, "limit": 100}).auto_paging_iter():
                if dig(refund, "metadata", "shopkeep_refund_key") == idempotency_key:
                    status = str(refund.status)
                    return RefundResult(refund_id=refund.id, status=(
                        "succeeded" if status == "succeeded" else
                        "failed" if status in ("failed", "canceled") else "pending"))
        except GatewayError as exc:
            if exc.code == "nothing_to_refund":
                return None
            raise
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None
        return None

    @staticmethod
    def _invoice_payment(client: stripe.StripeClient, invoice_id: str) -> dict[str, str]:
        """A subscription's first payment is known by its invoice; refunds need what paid it."""
        payments = client.v1.invoice_payments.list({"invoice": invoice_id, "status": "paid"})
        for payment in payments.data:
            intent = id_of(dig(payment, "payment", "payment_intent"))
            if intent:
                return {"payment_intent": intent}
            charge = id_of(dig(payment, "payment", "charge"))
            if charge:
                return {"charge": charge}
        raise GatewayError("nothing_to_refund", "Nothing was charged for this invoice (a free "
                           "trial start), so there is nothing to refund.")

    def cancel_subscription(self, *, subscription_id: str, at_period_end: bool) -> None:
        client = self.client
        try:
            current = client.v1.subscriptions.retrieve(subscription_id)
            if current.status in ("canceled", "incomplete_expired"):
                return
            if at_period_end:
                client.v1.subscriptions.update(subscription_id, {"cancel_at_period_end": True})
            else:
                client.v1.subscriptions.cancel(subscription_id)
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None

    def retry_subscription_payment(self, *, subscription_id: str) -> None:
        client = self.client
        try:
            sub = client.v1.subscriptions.retrieve(subscription_id)
            invoice = id_of(dig(sub, "latest_invoice"))
            if not invoice:
                raise GatewayError("nothing_to_retry", "The subscription has no open invoice.")
            client.v1.invoices.pay(invoice)
        except stripe.CardError:
            return  # the attempt was made and declined: invoice.payment_failed reports it
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None

    def subscription_state(self, *, subscription_id: str) -> SubscriptionState:
        try:
            sub = self.client.v1.subscriptions.retrieve(subscription_id)
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None
        return state_from_subscription(sub)

    def list_refunds(self, *, charge_id: str) -> list[Any]:
        try:
            return list(self.client.v1.refunds.list({"charge": charge_id, "limit": 100}).data)
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None

    def retrieve_invoice(self, invoice_id: str) -> Any:
        try:
            return self.client.v1.invoices.retrieve(invoice_id)
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None

    def invoice_for_payment_intent(self, payment_intent: str) -> str:
        try:
            found = self.client.v1.invoice_payments.list({
                "payment": {"type": "payment_intent", "payment_intent": payment_intent}})
        except stripe.StripeError as exc:
            raise gateway_error(exc) from None
        return next((id_of(dig(p, "invoice")) for p in found.data if dig(p, "invoice")), "")

    # -- inbound ---------------------------------------------------------------------------

    def verify_event(self, request: HttpRequest) -> dict:
        """The signed event as plain JSON, or CallbackRejected. The library checks the
        ``Stripe-Signature`` header (``t=...,v1=HMAC-SHA256``) and the 5-minute tolerance."""
        try:
            secret = unseal(self.connection.webhook_secret_sealed,
                            context=self.connection.seal_context("webhook_secret"))
        except SealError as exc:
            logger.error("store %s: cannot open the webhook secret: %s",
                         self.connection.store_id, exc)
            raise CallbackRejected("the webhook signing secret cannot be decrypted") from None
        try:
            event = stripe.Webhook.construct_event(
                request.body, request.headers.get("Stripe-Signature"), secret,
                tolerance=SIGNATURE_TOLERANCE)
        except stripe.SignatureVerificationError as exc:
            raise CallbackRejected(f"signature check failed: {exc.user_message}") from None
        except (ValueError, UnicodeDecodeError, TypeError, AttributeError):
            # Signed but not an event object (a JSON list, say): refuse, never crash.
            raise CallbackRejected("the body is not a JSON event") from None
        data = event.to_dict()
        if not isinstance(dig(data, "data", "object"), dict) or not data.get("id"):
            raise CallbackRejected("the body is not a Stripe event")
        return data

    def parse_callback(self, request: HttpRequest) -> list[Notice]:
        return notices_for(self.verify_event(request)) or []


def state_from_subscription(sub: Any) -> SubscriptionState:
    # Since API version 2025-03-31 the period lives on the subscription's items.
    start = dig(sub, "items", "data", 0, "current_period_start") or dig(
        sub, "current_period_start")
    end = dig(sub, "items", "data", 0, "current_period_end") or dig(sub, "current_period_end")
    if start is None or end is None:
        raise GatewayError("malformed", "Stripe's subscription has no current period.")
    return SubscriptionState(
        status=STATES.get(dig(sub, "status", default=""), "past_due"),
        current_period_start=datetime.fromtimestamp(int(start), tz=UTC),
        current_period_end=datetime.fromtimestamp(int(end), tz=UTC),
        cancel_at_period_end=bool(dig(sub, "cancel_at_period_end", default=False)))


def _for_store(store) -> StripeGateway:
    if store is None:
        raise GatewayError("store_required", "Stripe calls are made for one store.")
    return StripeGateway.for_store(store)


register("stripe", _for_store)
