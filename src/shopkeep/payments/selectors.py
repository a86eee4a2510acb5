"""Reads for payments: which gateways a store's checkout offers, and what blocks going live."""

from __future__ import annotations

from shopkeep.payments.gateways.paypal_api import approve_origin
from shopkeep.payments.models import PayPalConnection, StripeConnection
from shopkeep.stores.models import Store

GATEWAY_LABELS = {"stripe": "Card (Stripe)", "paypal": "PayPal", "sandbox": "Test card (sandbox)"}


def checkout_gateways(*, store: Store) -> list[str]:
    """The gateways a buyer may choose from, the default first.

    Stripe once connected, except in test mode with a live key (test mode never takes real
    money); a live store with a test key still lists "stripe", whose checkout then refuses
    with a message that says what to fix. PayPal when its mode matches the store's (sandbox
    credentials in test mode, live ones when live). The sandbox when nothing else is offered.
    """
    offered = []
    stripe = StripeConnection.objects.filter(store=store).only("livemode").first()
    if stripe is not None and not (store.test_mode and stripe.livemode):
        offered.append("stripe")
    paypal = PayPalConnection.objects.filter(store=store).only("mode").first()
    if paypal is not None and paypal.livemode != store.test_mode:
        offered.append("paypal")
    return offered or ["sandbox"]


STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def payment_page_origins(*, store: Store) -> list[str]:
    """The hosted payment pages a checkout form may end up on. Browsers apply the page's
    CSP ``form-action`` to the redirect that follows a form POST too, so the checkout page
    must name them or the hand-off to the provider is blocked."""
    origins = []
    offered = checkout_gateways(store=store)
    if "stripe" in offered:
        origins.append(STRIPE_CHECKOUT_ORIGIN)
    if "paypal" in offered:
        mode = PayPalConnection.objects.filter(store=store).values_list("mode", flat=True)
        origins.append(approve_origin(mode.first() or "sandbox"))
    return origins


def checkout_gateway(*, store: Store) -> str:
    return checkout_gateways(store=store)[0]


def going_live_problem(*, store: Store) -> str:
    """Why the store cannot leave test mode yet ('' when it can): a test key would then be
    the live store's gateway, which seed 000 names as the first cause of failed payments."""
    connection = StripeConnection.objects.filter(store=store).only("livemode").first()
    if connection is not None and not connection.livemode:
        return ("Stripe is connected with a test key. Connect your live key (sk_live_...) in "
                "Settings > Payments before turning test mode off.")
    paypal = PayPalConnection.objects.filter(store=store).only("mode").first()
    if paypal is not None and not paypal.livemode:
        return ("PayPal is connected with sandbox credentials. Connect the live app's Client "
                "ID and Secret in Settings > Payments before turning test mode off.")
    return ""
