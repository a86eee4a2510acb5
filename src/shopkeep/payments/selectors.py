"""Reads for payments: which gateway a store's checkout uses, and its Stripe status."""

from __future__ import annotations

from shopkeep.payments.models import StripeConnection
from shopkeep.stores.models import Store


def checkout_gateway(*, store: Store) -> str:
    """Stripe once connected; the sandbox otherwise, and in test mode with a live key (test
    mode never takes real money). A live store with a test key still gets "stripe", whose
    checkout then refuses with a message that says what to fix."""
    connection = StripeConnection.objects.filter(store=store).only("livemode").first()
    if connection is None or (store.test_mode and connection.livemode):
        return "sandbox"
    return "stripe"
