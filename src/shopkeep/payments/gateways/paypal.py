"""PayPal behind the gateway interface: Orders v2, Billing Plans and Subscriptions, refunds.

One ``PayPalGateway`` per store (each store connects its own REST app, see
``payments.paypal_connect``). A one-time purchase is a PayPal order with intent ``CAPTURE``:
the buyer approves it on PayPal's page, PayPal sends them back to our return endpoint, and
the money is taken only by the *capture* call, made on return (``paypal_return``) and again,
idempotently, by the worker when the ``CHECKOUT.ORDER.APPROVED`` webhook arrives; the order
is paid when a capture says ``COMPLETED``, never because the buyer came back.

A subscription product becomes a PayPal catalog product and a billing plan (``PayPalPlan``,
one per price and interval); the buyer approves a subscription on that plan, and it is paid
when PayPal reports it ``ACTIVE`` (read back from PayPal on return, or the webhook).
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.money import from_minor, money_str, to_minor
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
    SubscriptionTerms,
)
from shopkeep.payments.gateways.paypal_api import PayPalAPI, link
from shopkeep.payments.gateways.periods import add_interval
from shopkeep.payments.models import PayPalConnection, PayPalPlan
from shopkeep.payments.sealed import SealError, unseal
from shopkeep.subscriptions.models import Subscription

logger = logging.getLogger("shopkeep.payments.paypal")
RETURN_SALT = "shopkeep.paypal.return"
TRANSMISSION_HEADERS = ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
                        "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO")
INTERVAL_UNITS = {"week": "WEEK", "month": "MONTH", "year": "YEAR"}
# PayPal subscription statuses, as Shopkeep's (APPROVAL_PENDING/APPROVED: not billing yet).
STATES = {"ACTIVE": "active", "SUSPENDED": "past_due", "APPROVAL_PENDING": "past_due",
          "APPROVED": "past_due", "CANCELLED": "canceled", "EXPIRED": "canceled"}


def parse_time(value: object) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def minor_of(amount: object, currency_field: str = "currency_code",
             value_field: str = "value") -> tuple[int | None, str]:
    """PayPal money ``{"currency_code": "USD", "value": "29.99"}`` -> (2999, "USD")."""
    if not isinstance(amount, dict):
        return None, ""
    currency = str(amount.get(currency_field) or "").upper()
    try:
        return to_minor(Decimal(str(amount.get(value_field))), currency), currency
    except (InvalidOperation, ValueError, KeyError, TypeError):
        return None, currency


def _money(amount_minor: int, currency: str) -> dict:
    return {"currency_code": currency, "value": money_str(from_minor(amount_minor, currency),
                                                          currency)}


def first_capture(order: dict) -> dict:
    for unit in order.get("purchase_units") or []:
        captures = ((unit or {}).get("payments") or {}).get("captures") or []
        if captures:
            return captures[0]
    return {}


def order_reference(order: dict) -> str:
    unit = (order.get("purchase_units") or [{}])[0] or {}
    return str(unit.get("custom_id") or unit.get("reference_id") or "")


class PayPalGateway:
    name = "paypal"
    label = "PayPal"
    icon = "paypal.svg"

    def __init__(self, connection: PayPalConnection) -> None:
        self.connection = connection

    @classmethod
    def for_store(cls, store) -> PayPalGateway:
        connection = PayPalConnection.objects.filter(store=store).first()
        if connection is None:
            raise GatewayError("not_connected", "This store has not connected PayPal.")
        return cls(connection)

    @property
    def api(self) -> PayPalAPI:
        try:
            secret = unseal(self.connection.client_secret_sealed,
                            context=self.connection.seal_context("client_secret"))
        except SealError as exc:
            logger.error("store %s: cannot open the PayPal secret: %s",
                         self.connection.store_id, exc)
            raise GatewayError("secret_unreadable", "The stored PayPal secret cannot be "
                               "decrypted; check SHOPKEEP_PAYMENT_ENCRYPTION_KEYS or connect "
                               "again.") from None
        return PayPalAPI(client_id=self.connection.client_id, client_secret=secret,
                         mode=self.connection.mode)

    # -- checkout ---------------------------------------------------------------------------

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        if self.connection.livemode == request.test_mode:
            raise GatewayError("mode_mismatch", (
                "The store is live but PayPal is connected with sandbox credentials: connect "
                "the live app." if not request.test_mode else
                "The store is in test mode but PayPal is connected live: no real payments in "
                "test mode."))
        earlier = (Order.objects.filter(order_number=request.reference,
                                        store__public_id=request.store_public_id,
                                        payment_gateway=self.name)
                   .values_list("gateway_session_id", flat=True).first()) or ""
        return_url = self.return_url(request.reference, request.success_url)
        if request.subscription is not None:
            return self._start_subscription(request, earlier, return_url)
        api = self.api
        if earlier:
            reused = self._reuse_order(api, earlier, request.reference)
            if reused is not None:
                return reused
        unit = {"reference_id": request.reference[:256], "custom_id": request.reference[:127],
                "description": (request.description or request.reference)[:127],
                "amount": _money(request.amount_minor, request.currency)}
        body = {"intent": "CAPTURE", "purchase_units": [unit], "payment_source": {"paypal": {
            "email_address": request.customer_email or None,
            "experience_context": {
                "return_url": return_url, "cancel_url": str(request.cancel_url),
                "user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING"}}}}
        if not request.customer_email:
            del body["payment_source"]["paypal"]["email_address"]
        # The same attempt retried (a timeout) gets the same PayPal order back, not a second.
        created = api.call("POST", "/v2/checkout/orders", json=body,
                           request_id=f"sk-order-{request.reference}-{earlier or 'first'}")
        url = link(created, "payer-action") or link(created, "approve")
        if not created.get("id") or not url:
            raise GatewayError("api_error", "PayPal created no approval link for the order.")
        return CheckoutStart(session_id=str(created["id"]), redirect_url=url)

    def _reuse_order(self, api: PayPalAPI, paypal_order_id: str,
                     reference: str) -> CheckoutStart | None:
        """One PayPal order per Shopkeep order while it can still be approved; one the buyer
        approved already is captured by the worker (its webhook, or the task queued here)."""
        try:
            existing = api.call("GET", f"/v2/checkout/orders/{paypal_order_id}")
        except GatewayError as exc:
            if exc.code in ("resource_not_found", "invalid_resource_id"):
                return None
            raise
        status = existing.get("status")
        if status in ("CREATED", "PAYER_ACTION_REQUIRED"):
            url = link(existing, "payer-action") or link(existing, "approve")
            if url:
                return CheckoutStart(session_id=paypal_order_id, redirect_url=url)
        if status in ("APPROVED", "COMPLETED"):
            # Captured by the worker: the CHECKOUT.ORDER.APPROVED webhook's task, or the
            # periodic sweep of approved orders (payments.paypal_worker).
            raise GatewayError("already_paid", "This order was approved at PayPal already; "
                               "its confirmation is on the way.")
        return None  # VOIDED or expired: a new PayPal order

    def return_url(self, reference: str, success_url: str) -> str:
        """Our endpoint PayPal sends the buyer back to; it captures, then forwards to the
        caller's success URL (signed, so the endpoint cannot be used to redirect elsewhere)."""
        token = signing.dumps({"o": reference, "n": str(success_url)}, salt=RETURN_SALT,
                              compress=True)
        path = reverse("payments:paypal_return", args=[self.connection.store.public_id])
        return f"{absolute_url(path)}?r={token}"

    def capture(self, *, paypal_order_id: str) -> list[Notice]:
        """Take the money for an approved order. Safe to call any number of times, from the
        return and the worker at once: ``PayPal-Request-Id`` makes PayPal capture once, and a
        second capture is answered ``ORDER_ALREADY_CAPTURED``, after which we read the order.
        Returns the notice(s) that say what PayPal did ([] while not approved yet)."""
        api = self.api
        try:
            order = api.call("POST", f"/v2/checkout/orders/{paypal_order_id}/capture",
                             json={}, request_id=f"sk-capture-{paypal_order_id}")
        except GatewayError as exc:
            if exc.code == "order_already_captured":
                order = api.call("GET", f"/v2/checkout/orders/{paypal_order_id}")
            elif exc.code in ("order_not_approved", "payer_action_required"):
                return []
            elif exc.code in ("instrument_declined", "transaction_refused"):
                return [Notice(event_id=f"declined:{paypal_order_id}:{timezone.now():%s}",
                               kind="payment.failed", occurred_at=timezone.now(),
                               reference=self._reference_of(api, paypal_order_id),
                               payment_id=paypal_order_id, error_code=exc.code,
                               error_message=exc.message)]
            else:
                raise
        return self.notices_for_order(order)

    @staticmethod
    def _reference_of(api: PayPalAPI, paypal_order_id: str) -> str:
        try:
            return order_reference(api.call("GET", f"/v2/checkout/orders/{paypal_order_id}"))
        except GatewayError:
            return ""

    @staticmethod
    def notices_for_order(order: dict) -> list[Notice]:
        capture = first_capture(order)
        if not capture:
            return []
        amount, currency = minor_of(capture.get("amount"))
        base = {"reference": str(capture.get("custom_id") or order_reference(order)),
                "payment_id": str(capture.get("id") or ""), "charge_id": str(order.get("id")),
                "amount_minor": amount, "currency": currency,
                "occurred_at": parse_time(capture.get("create_time")) or timezone.now()}
        status = capture.get("status")
        if status == "COMPLETED":
            return [Notice(event_id=f"capture:{capture.get('id')}", kind="payment.succeeded",
                           **base)]
        if status in ("DECLINED", "FAILED"):
            reason = str((capture.get("status_details") or {}).get("reason") or "declined")
            return [Notice(event_id=f"capture:{capture.get('id')}", kind="payment.failed",
                           error_code=reason.lower(),
                           error_message="PayPal declined the payment.", **base)]
        return []  # PENDING (an eCheck, a review): PAYMENT.CAPTURE.COMPLETED pays it later

    # -- subscriptions ----------------------------------------------------------------------

    def _start_subscription(self, request: CheckoutRequest, earlier: str,
                            return_url: str) -> CheckoutStart:
        terms = request.subscription
        assert terms is not None
        if request.first_period_credit_minor:
            # A PayPal plan bills one price every cycle; a cheaper first cycle would need a
            # plan per upgrade (not built). Refused rather than billed at the wrong price.
            raise GatewayError("upgrade_unsupported", "A subscription upgrade with a credit "
                               "cannot be paid with PayPal yet; choose another payment method.")
        api = self.api
        if earlier:
            try:
                existing = api.call("GET", f"/v1/billing/subscriptions/{earlier}")
            except GatewayError:
                existing = {}
            if existing.get("status") == "APPROVAL_PENDING" and link(existing, "approve"):
                return CheckoutStart(session_id=earlier, redirect_url=link(existing, "approve"))
            if existing.get("status") in ("APPROVED", "ACTIVE"):
                raise GatewayError("already_paid", "This subscription was approved at PayPal "
                                   "already; its confirmation is on the way.")
        if request.first_period_credit_minor > 0:
            # A tier upgrade: the first period costs less by the unused credit. PayPal prices
            # a first cycle through a TRIAL cycle of one interval, so the plan is this
            # checkout's own (not cached: the credit differs per buyer).
            plan_id = self.ensure_plan(
                terms=terms, currency=request.currency,
                amount_minor=request.amount_minor + request.first_period_credit_minor,
                description=request.description or request.reference,
                first_price_minor=request.amount_minor, reference=request.reference)
        else:
            plan_id = self.ensure_plan(terms=terms, amount_minor=request.amount_minor,
                                       currency=request.currency,
                                       description=request.description or request.reference)
        body = {"plan_id": plan_id, "custom_id": request.reference[:127],
                "application_context": {"user_action": "SUBSCRIBE_NOW",
                                        "shipping_preference": "NO_SHIPPING",
                                        "return_url": return_url,
                                        "cancel_url": str(request.cancel_url)}}
        if request.customer_email:
            body["subscriber"] = {"email_address": request.customer_email}
        created = api.call("POST", "/v1/billing/subscriptions", json=body,
                           request_id=f"sk-sub-{request.reference}-{earlier or 'first'}")
        url = link(created, "approve")
        if not created.get("id") or not url:
            raise GatewayError("api_error", "PayPal created no approval link for the "
                               "subscription.")
        return CheckoutStart(session_id=str(created["id"]), redirect_url=url)

    def ensure_plan(self, *, terms: SubscriptionTerms, amount_minor: int, currency: str,
                    description: str, first_price_minor: int | None = None,
                    reference: str = "") -> str:
        """The billing plan for these terms, made at PayPal the first time they are sold."""
        if terms.product_id is None:
            raise GatewayError("plan_unavailable", "A PayPal subscription needs its product.")
        key = {"store_id": self.connection.store_id, "product_id": terms.product_id,
               "mode": self.connection.mode, "client_id": self.connection.client_id,
               "amount_minor": amount_minor, "currency": currency, "interval": terms.interval,
               "trial_days": terms.trial_days}
        plan = (PayPalPlan.objects.filter(**key).first() if first_price_minor is None
                else None)
        if plan is not None:
            return plan.plan_id
        api = self.api
        suffix = f"{self.connection.store_id}-{terms.product_id}"
        name = (terms.product_name or description)[:127]
        product = api.call("POST", "/v1/catalogs/products", json={
            "name": name, "type": "DIGITAL", "category": "SOFTWARE",
            "description": description[:256]}, request_id=f"sk-product-{suffix}")
        cycles: list[dict] = []
        if first_price_minor is not None:
            cycles.append({"frequency": {"interval_unit": INTERVAL_UNITS[terms.interval],
                                         "interval_count": 1},
                           "tenure_type": "TRIAL", "sequence": 1, "total_cycles": 1,
                           "pricing_scheme": {"fixed_price": _money(first_price_minor,
                                                                    currency)}})
        elif terms.trial_days:
            cycles.append({"frequency": {"interval_unit": "DAY",
                                         "interval_count": terms.trial_days},
                           "tenure_type": "TRIAL", "sequence": 1, "total_cycles": 1})
        cycles.append({"frequency": {"interval_unit": INTERVAL_UNITS[terms.interval],
                                     "interval_count": 1},
                       "tenure_type": "REGULAR", "sequence": len(cycles) + 1,
                       "total_cycles": 0,
                       "pricing_scheme": {"fixed_price": _money(amount_minor, currency)}})
        created = api.call("POST", "/v1/billing/plans", json={
            "product_id": product["id"], "name": f"{name} ({terms.interval}ly)"[:127],
            "status": "ACTIVE", "billing_cycles": cycles,
            "payment_preferences": {"auto_bill_outstanding": True,
                                    "setup_fee_failure_action": "CANCEL",
                                    "payment_failure_threshold": 3}},
            request_id=f"sk-plan-{suffix}-{amount_minor}{currency}-{terms.interval}-"
                       f"{terms.trial_days}" + (f"-{reference}" if first_price_minor is not None
                                                else ""))
        if first_price_minor is not None:
            return str(created["id"])
        # Another checkout may have made it at the same moment (with the same request ids,
        # so PayPal answered both with the same plan).
        with contextlib.suppress(IntegrityError), transaction.atomic():
            PayPalPlan.objects.create(**key, paypal_product_id=str(product["id"]),
                                      plan_id=str(created["id"]))
        return str(created["id"])

    def subscription(self, subscription_id: str) -> dict:
        return self.api.call("GET", f"/v1/billing/subscriptions/{subscription_id}")

    def cancel_subscription(self, *, subscription_id: str, at_period_end: bool) -> None:
        """PayPal has no "cancel at period end": cancelling stops all future billing at once,
        and Shopkeep keeps the buyer's access until the paid period ends when asked to."""
        api = self.api
        current = api.call("GET", f"/v1/billing/subscriptions/{subscription_id}")
        if current.get("status") in ("CANCELLED", "EXPIRED"):
            return
        api.call("POST", f"/v1/billing/subscriptions/{subscription_id}/cancel",
                 json={"reason": "Cancelled in the store"[:128]})

    def retry_subscription_payment(self, *, subscription_id: str) -> None:
        api = self.api
        sub = api.call("GET", f"/v1/billing/subscriptions/{subscription_id}")
        balance = (sub.get("billing_info") or {}).get("outstanding_balance") or {}
        amount, currency = minor_of(balance)
        if not amount:
            raise GatewayError("nothing_to_retry", "The subscription owes nothing at PayPal.")
        try:
            api.call("POST", f"/v1/billing/subscriptions/{subscription_id}/capture",
                     json={"note": "Retry of the missed payment",
                           "capture_type": "OUTSTANDING_BALANCE",
                           "amount": _money(amount, currency)},
                     request_id=f"sk-retry-{subscription_id}-{amount}-"
                                f"{timezone.now():%Y%m%d%H}")
        except GatewayError as exc:
            if exc.code in ("instrument_declined", "transaction_refused"):
                return  # attempted and declined: BILLING.SUBSCRIPTION.PAYMENT.FAILED says so
            raise

    def subscription_state(self, *, subscription_id: str) -> SubscriptionState:
        sub = self.subscription(subscription_id)
        return state_of(sub, ours=Subscription.objects.filter(
            store_id=self.connection.store_id, payment_gateway=self.name,
            gateway_subscription_id=subscription_id).first())

    # -- refunds ----------------------------------------------------------------------------

    def refund(self, *, payment_id: str, amount_minor: int, currency: str, reason: str,
               idempotency_key: str) -> RefundResult:
        if payment_id.startswith("I-"):
            return self._refund_subscription_payment(
                subscription_id=payment_id, amount_minor=amount_minor, currency=currency,
                idempotency_key=idempotency_key)
        body = {"amount": _money(amount_minor, currency), "custom_id": idempotency_key[:127]}
        if reason:
            body["note_to_payer"] = reason[:255]
        refund = self.api.call("POST", f"/v2/payments/captures/{payment_id}/refund",
                               json=body, request_id=idempotency_key)
        return _refund_result(refund)

    def _refund_subscription_payment(self, *, subscription_id: str, amount_minor: int,
                                     currency: str, idempotency_key: str) -> RefundResult:
        """A subscription order is known by its subscription; what it paid is the first
        completed sale in the subscription's transactions (v1 sale refund, PayPal's only
        refund for subscription payments)."""
        api = self.api
        sub = api.call("GET", f"/v1/billing/subscriptions/{subscription_id}")
        start = parse_time(sub.get("start_time")) or parse_time(sub.get("create_time"))
        if start is None:
            raise GatewayError("nothing_to_refund", "PayPal shows no start for this "
                               "subscription, so there is no payment to refund.")
        listing = api.call("GET", f"/v1/billing/subscriptions/{subscription_id}/transactions",
                           params={"start_time": (start - timedelta(days=1)).strftime(
                               "%Y-%m-%dT%H:%M:%SZ"),
                               "end_time": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")})
        sales = sorted((t for t in listing.get("transactions") or []
                        if t.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED")),
                       key=lambda t: str(t.get("time") or ""))
        if not sales:
            raise GatewayError("nothing_to_refund", "Nothing was charged for this subscription "
                               "yet (a free trial), so there is nothing to refund.")
        refund = api.call("POST", f"/v1/payments/sale/{sales[0]['id']}/refund", json={
            "amount": {"total": money_str(from_minor(amount_minor, currency), currency),
                       "currency": currency},
            "invoice_number": idempotency_key[:127]}, request_id=idempotency_key)
        state = str(refund.get("state") or "")
        if state == "failed":
            raise GatewayError("refund_failed", "PayPal could not refund this payment.")
        return RefundResult(refund_id=str(refund.get("id") or ""),
                            status="succeeded" if state == "completed" else "pending")

    def refund_lookup(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        """Our refund is the one carrying our key as its ``custom_id``, listed on the PayPal
        order the capture belongs to (PayPal has no search by request id)."""
        if payment_id.startswith("I-"):
            # No search for sale refunds: executing again with the same PayPal-Request-Id
            # gets the refund made earlier back instead of a second one.
            return None
        api = self.api
        capture = api.call("GET", f"/v2/payments/captures/{payment_id}")
        order_id = str(((capture.get("supplementary_data") or {}).get("related_ids") or {})
                       .get("order_id") or "")
        if not order_id:
            up = link(capture, "up")
            order_id = up.rstrip("/").rsplit("/", 1)[-1] if "/checkout/orders/" in up else ""
        if not order_id:
            return None
        order = api.call("GET", f"/v2/checkout/orders/{order_id}")
        for unit in order.get("purchase_units") or []:
            for refund in ((unit or {}).get("payments") or {}).get("refunds") or []:
                if refund.get("custom_id") == idempotency_key:
                    return _refund_result(refund)
        return None

    # -- webhooks ---------------------------------------------------------------------------

    def verify_webhook(self, request: HttpRequest) -> dict:
        """The event, once PayPal confirms the transmission signature; CallbackRejected
        otherwise. GatewayError when PayPal cannot be asked (the view answers 503, so PayPal
        delivers again later). The raw body is passed on byte for byte as
        ``webhook_event``: re-serialising the parsed JSON could change it and fail the check.
        """
        headers = {name: request.headers.get(name, "") for name in TRANSMISSION_HEADERS}
        missing = [name for name, value in headers.items() if not value]
        if missing:
            raise CallbackRejected("missing PayPal transmission headers: " + ", ".join(missing))
        try:
            event = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise CallbackRejected("the body is not JSON") from None
        if not (isinstance(event, dict) and event.get("id") and event.get("event_type")
                and isinstance(event.get("resource"), dict)):
            raise CallbackRejected("the body is not a PayPal webhook event")
        envelope = {"auth_algo": headers["PAYPAL-AUTH-ALGO"],
                    "cert_url": headers["PAYPAL-CERT-URL"],
                    "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
                    "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
                    "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
                    "webhook_id": self.connection.webhook_id}
        content = (json.dumps(envelope)[:-1] + ', "webhook_event": ').encode() + \
            request.body.strip() + b"}"
        try:
            result = self.api.call("POST", "/v1/notifications/verify-webhook-signature",
                                   content=content)
        except GatewayError as exc:
            if exc.code in ("gateway_unreachable", "api_error", "rate_limited"):
                raise
            # PayPal refused to check it at all (a malformed header, say): not verified.
            raise CallbackRejected(f"PayPal did not verify it: {exc.message}") from None
        if result.get("verification_status") != "SUCCESS":
            raise CallbackRejected("PayPal says the transmission signature does not match")
        return event


def activation_notice(sub: dict, *, event_id: str) -> Notice | None:
    """``payment.succeeded`` for an ACTIVE subscription: its first period is paid (or is
    a free trial PayPal accepted a payment method for)."""
    if sub.get("status") != "ACTIVE":
        return None
    info = sub.get("billing_info") or {}
    end = parse_time(info.get("next_billing_time"))
    start = (parse_time((info.get("last_payment") or {}).get("time"))
             or parse_time(sub.get("start_time")) or timezone.now())
    amount, currency = minor_of((info.get("last_payment") or {}).get("amount"))
    return Notice(event_id=event_id, kind="payment.succeeded", occurred_at=start,
                  reference=str(sub.get("custom_id") or ""), payment_id=str(sub["id"]),
                  subscription_id=str(sub["id"]), plan_id=str(sub.get("plan_id") or ""),
                  customer_id=str((sub.get("subscriber") or {}).get("payer_id") or ""),
                  amount_minor=amount, currency=currency, period_start=start,
                  period_end=end)


def _refund_result(refund: dict) -> RefundResult:
    status = str(refund.get("status") or "")
    if status in ("FAILED", "CANCELLED"):
        reason = str((refund.get("status_details") or {}).get("reason") or "refund_failed")
        raise GatewayError(reason.lower(), "PayPal could not refund this payment.")
    return RefundResult(refund_id=str(refund.get("id") or ""),
                        status="succeeded" if status == "COMPLETED" else "pending")


def state_of(sub: dict, *, ours: Subscription | None) -> SubscriptionState:
    """PayPal's subscription as Shopkeep's state. A subscription the buyer cancelled at PayPal
    stays paid until its last payment's period ends: it reads as active and cancelling at
    period end, so the reconciliation does not take away time that was paid for."""
    info = sub.get("billing_info") or {}
    last = parse_time((info.get("last_payment") or {}).get("time"))
    start = last or parse_time(sub.get("start_time")) or timezone.now()
    end = parse_time(info.get("next_billing_time"))
    status = STATES.get(str(sub.get("status") or ""), "past_due")
    if end is None:
        interval = ours.billing_interval if ours is not None else "month"
        end = add_interval(start, interval)
    if status == "canceled" and sub.get("status") == "CANCELLED" and end > timezone.now():
        return SubscriptionState(status="active", current_period_start=start,
                                 current_period_end=end, cancel_at_period_end=True)
    return SubscriptionState(status=status, current_period_start=start,
                             current_period_end=end, cancel_at_period_end=False)


def return_target(token: str) -> dict | None:
    """The order number and success URL a return link was made for, if the link is ours."""
    try:
        data = signing.loads(token, salt=RETURN_SALT, max_age=60 * 60 * 24 * 3)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) and data.get("o") and data.get("n") else None


def _for_store(store) -> PayPalGateway:
    if store is None:
        raise GatewayError("store_required", "PayPal calls are made for one store.")
    return PayPalGateway.for_store(store)


register("paypal", _for_store)
