"""Store API: the store's Stripe and PayPal connections (status, connect, disconnect).

Secrets go in once and never come back out: responses show the mode and the last four
characters only.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from shopkeep.payments.paypal_connect import paypal_connect, paypal_disconnect, paypal_status
from shopkeep.payments.selectors import checkout_gateways
from shopkeep.payments.stripe_connect import stripe_connect, stripe_disconnect, stripe_status
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor

router = Router(tags=["payments"])


class StripeStatusOut(Schema):
    connected: bool
    webhook_url: str = Field(..., description="Paste this into Stripe: Developers > Webhooks")
    events: list[str] = Field(..., description="Select these events on the Stripe endpoint")
    store_test_mode: bool
    checkout_gateway: str = Field(..., description="The default at checkout: stripe, paypal "
                                  "or sandbox")
    problem: str = Field(..., description="Why checkout cannot use this connection, if so")
    account_id: str | None = None
    account_name: str | None = None
    mode: str | None = Field(None, description="live or test")
    secret_key_hint: str | None = Field(None, examples=["sk_live_…4242"])
    webhook_secret_hint: str | None = None
    connected_at: datetime | None = None
    connected_by: str | None = None
    first_event_at: datetime | None = Field(None, description="When the first signed event "
                                            "arrived; null until Stripe reached us")
    last_event_at: datetime | None = None
    last_event_type: str | None = None
    last_signature_failure_at: datetime | None = Field(
        None, description="Last time a request failed the signature check (a wrong secret)")


class StripeConnectIn(Schema):
    secret_key: str = Field(..., max_length=2000, description="sk_live_... or sk_test_...")
    webhook_secret: str = Field(..., max_length=2000, description="whsec_...")


@router.get("/payments/stripe", response=StripeStatusOut, auth=scope("store:read"),
            summary="Stripe connection status and the webhook to configure")
def stripe_status_api(request: HttpRequest):
    return stripe_status(store=request.store, request=request)


@router.put("/payments/stripe", response=StripeStatusOut, auth=scope("store:write"),
            summary="Connect (or replace) Stripe; the keys are verified with Stripe first")
def stripe_connect_api(request: HttpRequest, payload: StripeConnectIn):
    stripe_connect(store=request.store, actor=Actor.for_token(request.api_token),
                   secret_key=payload.secret_key, webhook_secret=payload.webhook_secret,
                   request=request)
    return stripe_status(store=request.store, request=request)


@router.delete("/payments/stripe", response=StripeStatusOut, auth=scope("store:write"),
               summary="Disconnect Stripe; refused while Stripe subscriptions are live")
def stripe_disconnect_api(request: HttpRequest):
    stripe_disconnect(store=request.store, actor=Actor.for_token(request.api_token))
    return stripe_status(store=request.store, request=request)


# -- PayPal -----------------------------------------------------------------------------------

class PayPalStatusOut(Schema):
    connected: bool
    webhook_url: str = Field(..., description="The webhook Shopkeep creates on the PayPal app "
                             "for this store (nothing to paste)")
    events: list[str] = Field(..., description="The event types the webhook subscribes to")
    store_test_mode: bool
    checkout_gateways: list[str] = Field(..., description="What checkout offers, the default "
                                         "first (stripe, paypal or sandbox)")
    problem: str = Field(..., description="Why checkout cannot offer this connection, if so")
    mode: str | None = Field(None, description="sandbox or live")
    client_id: str | None = None
    client_secret_hint: str | None = Field(None, examples=["…wxyz"])
    webhook_id: str | None = None
    webhook_created: bool | None = Field(None, description="Shopkeep created the webhook "
                                         "(rather than finding it)")
    connected_at: datetime | None = None
    connected_by: str | None = None
    first_event_at: datetime | None = Field(None, description="When the first verified event "
                                            "arrived; null until PayPal reached us")
    last_event_at: datetime | None = None
    last_event_type: str | None = None
    last_signature_failure_at: datetime | None = Field(
        None, description="Last time a request was not verified by PayPal")


class PayPalConnectIn(Schema):
    client_id: str = Field(..., max_length=2000, description="The REST app's Client ID")
    client_secret: str = Field(..., max_length=2000, description="The REST app's Secret")
    mode: str = Field(..., max_length=16, description="sandbox or live")


def _paypal_out(request: HttpRequest) -> dict:
    return {**paypal_status(store=request.store, request=request),
            "checkout_gateways": checkout_gateways(store=request.store)}


@router.get("/payments/paypal", response=PayPalStatusOut, auth=scope("store:read"),
            summary="PayPal connection status")
def paypal_status_api(request: HttpRequest):
    return _paypal_out(request)


@router.put("/payments/paypal", response=PayPalStatusOut, auth=scope("store:write"),
            summary="Connect (or replace) PayPal; verified with PayPal first (a token that may "
                    "take payments, and this store's webhook, created when missing)")
def paypal_connect_api(request: HttpRequest, payload: PayPalConnectIn):
    paypal_connect(store=request.store, actor=Actor.for_token(request.api_token),
                   client_id=payload.client_id, client_secret=payload.client_secret,
                   mode=payload.mode, request=request)
    return _paypal_out(request)


@router.delete("/payments/paypal", response=PayPalStatusOut, auth=scope("store:write"),
               summary="Disconnect PayPal; refused while PayPal subscriptions are live")
def paypal_disconnect_api(request: HttpRequest):
    paypal_disconnect(store=request.store, actor=Actor.for_token(request.api_token))
    return _paypal_out(request)
