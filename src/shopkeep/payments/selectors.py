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


def going_live_problem(*, store: Store) -> str:
    """Why the store cannot leave test mode yet ('' when it can): a test key would then be
    the live store's gateway, which seed 000 names as the first cause of failed payments."""
    connection = StripeConnection.objects.filter(store=store).only("livemode").first()
    if connection is not None and not connection.livemode:
        return ("Stripe is connected with a test key. Connect your live key (sk_live_...) in "
                "Settings > Payments before turning test mode off.")
    return ""
