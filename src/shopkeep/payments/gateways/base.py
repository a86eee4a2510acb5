"""The gateway interface: what Shopkeep asks of a payment provider, and what it tells us back.

Each provider is one module (``sandbox.py``, ``stripe.py``) behind this
small surface. Amounts cross it in minor units (cents, or yen for JPY) because that is what
providers speak; the domain keeps ``Decimal``.

Outbound calls (refund, cancel, state) never run inside a database transaction: a slow or
failing provider must not hold row locks, and a rolled-back transaction cannot un-refund money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.http import HttpRequest


class GatewayError(Exception):
    """The provider refused or could not be reached; ``code`` is stable, ``message`` readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CallbackRejected(Exception):
    """An inbound callback failed its signature or shape check; answer 400 and change nothing."""


@dataclass(frozen=True)
class SubscriptionTerms:
    interval: str  # week, month or year
    trial_days: int = 0
    # Providers that bill by plan (PayPal) make one per product and price.
    product_id: int | None = None
    product_name: str = ""


@dataclass(frozen=True)
class CheckoutRequest:
    store_public_id: str
    reference: str  # our order number; comes back on every notice about this payment
    amount_minor: int
    currency: str
    description: str
    customer_email: str
    success_url: str
    cancel_url: str
    test_mode: bool
    subscription: SubscriptionTerms | None = None
    # Subscriptions only: taken off the first payment alone (a tier upgrade's unused credit);
    # ``amount_minor`` is that first payment, and renewals are ``amount_minor`` plus this.
    first_period_credit_minor: int = 0


@dataclass(frozen=True)
class CheckoutStart:
    session_id: str
    redirect_url: str


@dataclass(frozen=True)
class Notice:
    """One provider event, normalised. ``event_id`` is the provider's own and deduplicates."""

    event_id: str
    kind: str  # one of NOTICE_KINDS
    occurred_at: datetime
    reference: str = ""
    payment_id: str = ""
    subscription_id: str = ""
    customer_id: str = ""
    plan_id: str = ""
    amount_minor: int | None = None
    currency: str = ""
    error_code: str = ""
    error_message: str = ""
    period_start: datetime | None = None
    period_end: datetime | None = None
    dispute_id: str = ""
    dispute_reason: str = ""
    dispute_reason_description: str = ""
    dispute_status: str = ""
    evidence_due_by: datetime | None = None
    charge_id: str = ""
    # subscription.updated: the provider's view of the subscription after a change made there
    subscription_status: str = ""  # active, past_due or canceled (as SubscriptionState)
    cancel_at_period_end: bool = False
    raw: dict = field(default_factory=dict)


NOTICE_KINDS = frozenset({
    "payment.succeeded", "payment.failed", "refund.succeeded", "refund.failed",
    "subscription.renewed", "subscription.payment_failed", "subscription.cancelled",
    "subscription.updated",
    "dispute.created", "dispute.closed",
})


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str  # succeeded, pending (settled later by a notice or reconciliation) or failed


@dataclass(frozen=True)
class SubscriptionState:
    status: str  # active, past_due, canceled
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool


class Gateway(Protocol):
    name: str
    label: str
    icon: str

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart: ...

    def parse_callback(self, request: HttpRequest) -> list[Notice]: ...

    def refund(self, *, payment_id: str, amount_minor: int, currency: str, reason: str,
               idempotency_key: str) -> RefundResult: ...

    def refund_lookup(self, *, payment_id: str, idempotency_key: str) -> RefundResult | None:
        """The refund made earlier with this key on this payment, or None: reconciliation
        asks before it retries, since providers forget idempotency keys after a day."""
        ...

    def cancel_subscription(self, *, subscription_id: str, at_period_end: bool) -> None: ...

    def retry_subscription_payment(self, *, subscription_id: str) -> None: ...

    def subscription_state(self, *, subscription_id: str) -> SubscriptionState: ...


# What a card network's dispute reason codes mean, in the words shown to store owners.
DISPUTE_REASONS = {
    "fraudulent": "Customer claims they did not authorize the purchase",
    "product_not_received": "Customer claims the purchase was not delivered",
    "duplicate": "Customer claims they were charged twice",
    "general": "Customer disputes the charge",
}
