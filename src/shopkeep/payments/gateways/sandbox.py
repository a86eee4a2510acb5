"""The built-in sandbox provider: a hosted payment page on our own site and test cards.

It behaves like a remote provider would: it keeps its own books (``Sandbox*`` tables), never
touches our orders, honours idempotency keys as Stripe does, and reports outcomes as notices
recorded in the same transaction as its own books and applied by the worker (see
``_deliver``), the same ``GatewayEvent`` path as a real provider's webhooks.

Test cards (seed of the commerce issue):
- 4242 4242 4242 4242 succeeds;
- 4000 0000 0000 0002 is declined with ``card_declined``;
- 4000 0000 0000 9995 fails with ``insufficient_funds``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from shopkeep.core.failpoints import failpoint
from shopkeep.core.ids import random_string
from shopkeep.core.scheduler import register_periodic
from shopkeep.payments.gateways import register
from shopkeep.payments.gateways.base import (
    DISPUTE_REASONS,
    CallbackRejected,
    CheckoutRequest,
    CheckoutStart,
    GatewayError,
    Notice,
    RefundResult,
    SubscriptionState,
)
from shopkeep.payments.gateways.periods import add_interval
from shopkeep.payments.models import (
    SandboxCharge,
    SandboxIdempotentRequest,
    SandboxRefund,
    SandboxSession,
    SandboxSubscription,
)
from shopkeep.payments.services import notice_process, notice_record
from shopkeep.payments.tasks import process_notice
from shopkeep.stores.models import Store

logger = logging.getLogger("shopkeep.payments.sandbox")
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NO_FUNDS = "4000000000009995"
CARD_SLOW_REFUNDS = "4000000000007726"  # pays; its refunds stay pending for a while
TEST_CARDS = {
    CARD_OK: ("", ""),
    CARD_SLOW_REFUNDS: ("", ""),
    CARD_DECLINED: ("card_declined",
                    "Your card was declined. Please try a different payment method."),
    CARD_NO_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}
SIGNATURE_HEADER = "Sandbox-Signature"
SIGNATURE_TOLERANCE = 300  # seconds; older signed notices are replays
SLOW_REFUND_DELAY = timedelta(seconds=30)  # how long a slow-refund card's refund is pending
IDEMPOTENCY_WINDOW = timedelta(hours=24)  # Stripe's: keys may be pruned after 24 hours
IDEMPOTENCY_MISMATCH = ("Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.")


def _id(prefix: str) -> str:
    return f"{prefix}_test_{random_string(20)}"


def normalise_card(number: str) -> str:
    return "".join(ch for ch in (number or "") if ch.isdigit())


def _signing_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"shopkeep-sandbox-notices",
                    hashlib.sha256).digest()


def sign(body: bytes, timestamp: int) -> str:
    digest = hmac.new(_signing_key(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def notice_to_json(notice: Notice) -> bytes:
    data = asdict(notice)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return json.dumps(data, sort_keys=True).encode()


def notice_from_json(body: bytes) -> Notice:
    try:
        data = json.loads(body)
        for key in ("occurred_at", "period_start", "period_end", "evidence_due_by"):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        return Notice(**data)
    except (ValueError, TypeError) as exc:
        raise CallbackRejected(f"malformed notice: {exc}") from None


def store_of_reference(reference: str) -> Store | None:
    """The store a sandbox payment belongs to: the account its checkout session was opened
    for (what a provider's event names as the connected account)."""
    public_id = (SandboxSession.objects.filter(reference=reference)
                 .values_list("store_public_id", flat=True).first())
    return Store.objects.filter(public_id=public_id).first() if public_id else None


def _deliver(notice: Notice) -> None:
    """Send the notice to Shopkeep the way a provider's webhook would, durably: inside the
    caller's transaction (the one that books the charge, refund or renewal) the notice
    becomes an inbound ``GatewayEvent`` row and a ``payments.process_notice`` task, so a crash
    right after the commit loses nothing; the worker applies it. Once committed, this process
    also applies it at once (so the buyer's next page shows the order paid); whichever comes
    first applies it, the other finds it processed."""
    store = store_of_reference(notice.reference)
    if store is None:
        logger.warning("sandbox notice %s: no store for %r", notice.event_id, notice.reference)
        return
    event = notice_record(store=store, gateway="sandbox", notice=notice)
    if event is None:
        return  # the same event id again: recorded once already
    process_notice.enqueue(event.pk)

    def fast_path() -> None:
        failpoint("sandbox.notice_committed")
        try:
            notice_process(event_id=event.pk)
        except Exception:
            # The queued task applies it (or records why not); the payment is committed.
            logger.exception("sandbox notice %s: applying at once failed; the worker retries",
                             notice.event_id)

    transaction.on_commit(fast_path)


class SandboxGateway:
    name = "sandbox"
    label = "Sandbox"
    icon = "sandbox.svg"

    # -- outbound --------------------------------------------------------------------------

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        if not request.test_mode:
            raise GatewayError("live_mode", "The sandbox gateway only takes test-mode orders.")
        # One open payment page per order: a new one (a "Pay now" retry, a second tab)
        # closes the earlier ones, so the buyer cannot be charged twice for one order.
        SandboxSession.objects.filter(reference=request.reference,
                                      status=SandboxSession.Status.OPEN).update(
            status=SandboxSession.Status.EXPIRED)
        session = SandboxSession.objects.create(
            id=_id("cs"), store_public_id=request.store_public_id, reference=request.reference,
            amount_minor=request.amount_minor, currency=request.currency,
            description=request.description[:300], customer_email=request.customer_email,
            success_url=request.success_url, cancel_url=request.cancel_url,
            subscription_interval=request.subscription.interval if request.subscription else "",
            trial_days=request.subscription.trial_days if request.subscription else 0,
            first_period_credit_minor=(request.first_period_credit_minor
                                       if request.subscription else 0),
        )
        return CheckoutStart(session_id=session.id,
                             redirect_url=reverse("payments:sandbox_pay", args=[session.id]))

    def refund(self, *, payment_id: str, amount_minor: int, currency: str, reason: str,
               idempotency_key: str) -> RefundResult:
        """Idempotent the way Stripe's API is: the first request with a key is executed and
        its response (success or refusal) saved; the same key with the same parameters gets
        that response again, with no second refund; with other parameters, an
        ``idempotency_error``. Keys are forgotten after 24 hours."""
        params = {"payment_id": payment_id, "amount_minor": amount_minor, "currency": currency}
        fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
        try:
            with transaction.atomic():
                # Same-key requests for one payment queue on the charge's row lock, so the
                # second one sees the first one's saved response.
                charge = SandboxCharge.objects.select_for_update().filter(pk=payment_id).first()
                saved = (SandboxIdempotentRequest.objects.select_for_update()
                         .filter(key=idempotency_key).first())
                if saved is not None and saved.created_at < timezone.now() - IDEMPOTENCY_WINDOW:
                    saved.delete()
                    saved = None
                if saved is not None:
                    if saved.operation != "refund" or saved.fingerprint != fingerprint:
                        raise GatewayError("idempotency_error", IDEMPOTENCY_MISMATCH)
                    response = saved.response
                else:
                    response = self._refund_now(charge, payment_id, amount_minor, currency,
                                                idempotency_key)
                    SandboxIdempotentRequest.objects.create(
                        key=idempotency_key, operation="refund", fingerprint=fingerprint,
                        response=response)
        except IntegrityError:
            # The same key, at the same moment, for another payment (Stripe answers 409).
            raise GatewayError("idempotency_error", "Another request with this idempotency "
                               "key is in progress.") from None
        if "error" in response:
            raise GatewayError(response["error"]["code"], response["error"]["message"])
        return RefundResult(refund_id=response["refund_id"], status=response["status"])

    @staticmethod
    def _refund_now(charge: SandboxCharge | None, payment_id: str, amount_minor: int,
                    currency: str, key: str) -> dict:
        def error(code: str, message: str) -> dict:
            return {"error": {"code": code, "message": message}}

        if charge is None:
            return error("resource_missing", f"No such payment: {payment_id}")
        if charge.currency != currency:
            return error("currency_mismatch", "The refund currency differs.")
        if amount_minor <= 0 or charge.refunded_minor + amount_minor > charge.amount_minor:
            return error("amount_too_large", "The refund exceeds what is left of the payment.")
        charge.refunded_minor += amount_minor
        charge.save(update_fields=["refunded_minor"])
        status = "pending" if charge.card_last4 == CARD_SLOW_REFUNDS[-4:] else "succeeded"
        refund = SandboxRefund.objects.create(id=_id("re"), charge=charge, status=status,
                                              amount_minor=amount_minor, idempotency_key=key)
        return {"refund_id": refund.id, "status": status}

    def refund_lookup(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        """The refund made for this key on this payment, if any (by the key kept on the
        refund, so it is found after the 24-hour replay window too)."""
        refund = SandboxRefund.objects.filter(charge_id=payment_id,
                                              idempotency_key=idempotency_key).first()
        return None if refund is None else RefundResult(refund_id=refund.id,
                                                        status=refund.status)

    def cancel_subscription(self, *, subscription_id: str, at_period_end: bool) -> None:
        with transaction.atomic():
            sub = self._subscription(subscription_id)
            if sub.status == "canceled":
                return
            if at_period_end:
                sub.cancel_at_period_end = True
                sub.save(update_fields=["cancel_at_period_end"])
            else:
                sub.status = "canceled"
                sub.save(update_fields=["status"])

    def retry_subscription_payment(self, *, subscription_id: str) -> None:
        with transaction.atomic():
            sub = self._subscription(subscription_id)
            if sub.status == "active":
                # Like paying a Stripe invoice that is paid already: a retry that runs again
                # after a crash never bills twice.
                raise GatewayError("nothing_to_retry", "The subscription has no open invoice.")
            self._bill(sub, card=None)

    def subscription_state(self, *, subscription_id: str) -> SubscriptionState:
        sub = SandboxSubscription.objects.filter(pk=subscription_id).first()
        if sub is None:
            raise GatewayError("resource_missing", f"No such subscription: {subscription_id}")
        return SubscriptionState(status=sub.status,
                                 current_period_start=sub.current_period_start,
                                 current_period_end=sub.current_period_end,
                                 cancel_at_period_end=sub.cancel_at_period_end)

    # -- inbound ---------------------------------------------------------------------------

    def parse_callback(self, request: HttpRequest) -> list[Notice]:
        header = request.headers.get(SIGNATURE_HEADER, "")
        try:
            parts = dict(item.split("=", 1) for item in header.split(","))
            timestamp = int(parts["t"])
            given = parts["v1"]
        except (ValueError, KeyError):
            raise CallbackRejected("missing or malformed signature header") from None
        if abs(time.time() - timestamp) > SIGNATURE_TOLERANCE:
            raise CallbackRejected("signature timestamp outside the tolerance")
        expected = sign(request.body, timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, given):
            raise CallbackRejected("signature mismatch")
        return [notice_from_json(request.body)]

    # -- the hosted page and the provider's own clock ---------------------------------------

    @transaction.atomic
    def pay(self, *, session_id: str, card_number: str) -> tuple[bool, str]:
        """The customer submitted the hosted page. Returns (succeeded, message)."""
        session = SandboxSession.objects.select_for_update().get(pk=session_id)
        if session.status != SandboxSession.Status.OPEN:
            return session.status == SandboxSession.Status.COMPLETE, "This payment is closed."
        card = normalise_card(card_number)
        if card not in TEST_CARDS:
            raise GatewayError("invalid_card", "Use one of the sandbox test cards.")
        code, message = TEST_CARDS[card]
        now = timezone.now()
        if code:
            _deliver(Notice(event_id=_id("evt"), kind="payment.failed", occurred_at=now,
                            reference=session.reference, amount_minor=session.amount_minor,
                            currency=session.currency, error_code=code, error_message=message))
            return False, message
        charge = SandboxCharge.objects.create(
            id=_id("pi"), session=session, reference=session.reference,
            amount_minor=session.amount_minor, currency=session.currency, card_last4=card[-4:])
        session.status = SandboxSession.Status.COMPLETE
        session.save(update_fields=["status"])
        sub_id = customer_id = plan_id = ""
        start = end = None
        if session.subscription_interval:
            start = now
            end = (now + timedelta(days=session.trial_days) if session.trial_days
                   else add_interval(now, session.subscription_interval))
            sub = SandboxSubscription.objects.create(
                id=_id("sub"), customer_id=_id("cus"), reference=session.reference,
                amount_minor=session.amount_minor + session.first_period_credit_minor,
                currency=session.currency,
                interval=session.subscription_interval, current_period_start=start,
                current_period_end=end, card_number=card)
            sub_id, customer_id = sub.id, sub.customer_id
            # The sandbox's "price": one per amount and interval, as a provider's plan would be.
            plan_id = (f"price_test_{session.subscription_interval}_"
                       f"{sub.amount_minor}{session.currency.lower()}")
        _deliver(Notice(event_id=_id("evt"), kind="payment.succeeded", occurred_at=now,
                        reference=session.reference, payment_id=charge.id,
                        charge_id=charge.id.replace("pi_", "ch_", 1),
                        amount_minor=charge.amount_minor, currency=charge.currency,
                        subscription_id=sub_id, customer_id=customer_id, plan_id=plan_id,
                        period_start=start, period_end=end))
        return True, "Payment succeeded."

    def settle_slow_refunds(self, *, now: datetime | None = None) -> int:
        """The provider finishing refunds it reported pending: each one ``refund.succeeded``."""
        now = now or timezone.now()
        count = 0
        due = SandboxRefund.objects.filter(status="pending",
                                           created_at__lte=now - SLOW_REFUND_DELAY)
        for refund_id in due.values_list("pk", flat=True):
            with transaction.atomic():
                refund = (SandboxRefund.objects.select_for_update().select_related("charge")
                          .filter(pk=refund_id, status="pending").first())
                if refund is None:
                    continue
                refund.status = "succeeded"
                refund.save(update_fields=["status"])
                charge = refund.charge
                _deliver(Notice(event_id=_id("evt"), kind="refund.succeeded", occurred_at=now,
                                reference=charge.reference, payment_id=refund.id,
                                charge_id=charge.id.replace("pi_", "ch_", 1),
                                amount_minor=refund.amount_minor, currency=charge.currency,
                                raw={"idempotency_key": refund.idempotency_key}))
                count += 1
        return count

    def bill_due(self, *, now: datetime | None = None) -> int:
        """Renew or end every sandbox subscription whose period is over; returns the count."""
        now = now or timezone.now()
        count = 0
        due = SandboxSubscription.objects.filter(status="active", current_period_end__lte=now)
        for sub_id in due.values_list("pk", flat=True):
            with transaction.atomic():
                sub = SandboxSubscription.objects.select_for_update().get(pk=sub_id)
                if sub.status != "active" or sub.current_period_end > now:
                    continue
                if sub.cancel_at_period_end:
                    sub.status = "canceled"
                    sub.save(update_fields=["status"])
                    _deliver(Notice(event_id=_id("evt"), kind="subscription.cancelled",
                                    occurred_at=now, reference=sub.reference,
                                    subscription_id=sub.id, period_end=sub.current_period_end))
                else:
                    self._bill(sub, card=None)
                count += 1
        return count

    def simulate_renewal(self, *, subscription_id: str, card_number: str | None = None) -> None:
        """Test mode: bill the next period now, with ``card_number`` as the new card on file."""
        with transaction.atomic():
            self._bill(self._subscription(subscription_id), card=card_number)

    def simulate_dispute(self, *, payment_id: str, reason: str = "fraudulent") -> str:
        charge = SandboxCharge.objects.filter(pk=payment_id).first()
        if charge is None:
            raise GatewayError("resource_missing", f"No such payment: {payment_id}")
        now = timezone.now()
        dispute_id = _id("dp")
        with transaction.atomic():
            _deliver(Notice(
                event_id=_id("evt"), kind="dispute.created", occurred_at=now,
                reference=charge.reference, payment_id=charge.id,
                charge_id=charge.id.replace("pi_", "ch_", 1), dispute_id=dispute_id,
                amount_minor=charge.amount_minor - charge.refunded_minor,
                currency=charge.currency, dispute_reason=reason,
                dispute_reason_description=DISPUTE_REASONS.get(reason, reason),
                dispute_status="needs_response",
                evidence_due_by=(now + timedelta(days=10)).replace(
                    hour=23, minute=59, second=59, microsecond=0)))
        return dispute_id

    def simulate_dispute_close(self, *, payment_id: str, dispute_id: str, status: str,
                               amount_minor: int, reason: str) -> None:
        charge = SandboxCharge.objects.get(pk=payment_id)
        with transaction.atomic():
            _deliver(Notice(event_id=_id("evt"), kind="dispute.closed",
                            occurred_at=timezone.now(), reference=charge.reference,
                            payment_id=charge.id, charge_id=charge.id.replace("pi_", "ch_", 1),
                            dispute_id=dispute_id, amount_minor=amount_minor,
                            currency=charge.currency, dispute_reason=reason,
                            dispute_status=status))

    # -- internals -------------------------------------------------------------------------

    def _subscription(self, subscription_id: str) -> SandboxSubscription:
        sub = SandboxSubscription.objects.select_for_update().filter(pk=subscription_id).first()
        if sub is None:
            raise GatewayError("resource_missing", f"No such subscription: {subscription_id}")
        return sub

    def _bill(self, sub: SandboxSubscription, *, card: str | None) -> None:
        if sub.status == "canceled":
            raise GatewayError("subscription_canceled", "The subscription is canceled.")
        if card is not None:
            sub.card_number = normalise_card(card)
        code, message = TEST_CARDS.get(sub.card_number, ("card_declined", "Unknown card."))
        now = timezone.now()
        if code:
            sub.status = "past_due"
            sub.save(update_fields=["status", "card_number"])
            _deliver(Notice(event_id=_id("evt"), kind="subscription.payment_failed",
                            occurred_at=now, reference=sub.reference, subscription_id=sub.id,
                            amount_minor=sub.amount_minor, currency=sub.currency,
                            error_code=code, error_message=message))
            return
        charge = SandboxCharge.objects.create(
            id=_id("pi"), reference=sub.reference, amount_minor=sub.amount_minor,
            currency=sub.currency, card_last4=sub.card_number[-4:])
        # A renewal billed late still starts where the last period ended: no days are lost.
        sub.current_period_start = sub.current_period_end
        sub.current_period_end = add_interval(sub.current_period_start, sub.interval)
        sub.status = "active"
        sub.save(update_fields=["status", "card_number", "current_period_start",
                                "current_period_end"])
        _deliver(Notice(event_id=_id("evt"), kind="subscription.renewed", occurred_at=now,
                        reference=sub.reference, subscription_id=sub.id, payment_id=charge.id,
                        amount_minor=sub.amount_minor, currency=sub.currency,
                        period_start=sub.current_period_start,
                        period_end=sub.current_period_end))


register("sandbox", lambda store: SandboxGateway())


@task()
def sandbox_bill_due() -> int:
    """The sandbox provider's own clock: renew or end its subscriptions when periods end,
    finish the refunds it reported pending."""
    sandbox = SandboxGateway()
    return sandbox.bill_due() + sandbox.settle_slow_refunds()


register_periodic(name="payments.sandbox_bill_due", task=sandbox_bill_due,
                  every=timedelta(minutes=1))
