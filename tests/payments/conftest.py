"""Fixtures for the Stripe tests: the fake Stripe API on 127.0.0.1 and connected stores."""

from __future__ import annotations

import json

import pytest

from shopkeep.payments.gateways.paypal_api import _TOKENS
from shopkeep.payments.gateways.stripe_events import EVENTS
from shopkeep.payments.models import PayPalConnection
from shopkeep.payments.paypal_connect import paypal_connect
from shopkeep.payments.stripe_connect import stripe_connect, webhook_url
from shopkeep.stores.audit import Actor
from tests.factories import owner_of
from tests.payments.paypal_fake import FakePayPal
from tests.payments.stripe_fake import FakeStripe, sign

TEST_KEY = "sk_test_51FakeKeyForShopkeepTests0000abcd"
LIVE_KEY = "sk_live_51FakeLiveKeyForShopkeepTests000wxyz"
WHSEC = "whsec_FakeSigningSecretForTests00001234"


@pytest.fixture(scope="session")
def _fake_server():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe(_fake_server, settings):
    """A fresh set of books on the shared server; the stripe library is pointed at it."""
    fake = _fake_server
    with fake.lock:
        fake.accounts.clear()
        fake.endpoints.clear()
        fake.objects.clear()
        fake.idempotent.clear()
        fake.requests.clear()
        fake.fail_next = None
    settings.STRIPE_API_BASE = fake.url
    settings.SITE_URL = "https://shop.example.com"
    settings.SITE_URL_CONFIGURED = True
    return fake


def connect(store, fake: FakeStripe, *, key: str = TEST_KEY, secret: str = WHSEC):
    fake.add_account(key, webhook_url=webhook_url(store), events=list(EVENTS))
    return stripe_connect(store=store, actor=Actor.for_user(owner_of(store)), secret_key=key,
                          webhook_secret=secret)


def post_event(client, store, event: dict, *, secret: str = WHSEC, timestamp: int | None = None,
               header: str | None = None):
    body = json.dumps(event).encode()
    signature = header if header is not None else sign(body, secret, timestamp)
    return client.post(f"/pay/stripe/{store.public_id}/webhook/", data=body,
                       content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


# -- PayPal -----------------------------------------------------------------------------------

PAYPAL_CLIENT_ID = "AfakeSandboxClientIdForShopkeepTests00000000000000001"
PAYPAL_SECRET = "EfakeSandboxSecretForShopkeepTests000000000000000000wxyz"


@pytest.fixture(scope="session")
def _paypal_server():
    fake = FakePayPal().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_paypal(_paypal_server, settings):
    """Fresh PayPal books on the shared server; Shopkeep's PayPal client is pointed at it."""
    _paypal_server.reset()
    _TOKENS.clear()
    settings.PAYPAL_API_BASE = _paypal_server.url
    settings.SITE_URL = "https://shop.example.com"
    settings.SITE_URL_CONFIGURED = True
    return _paypal_server


def connect_paypal(store, fake: FakePayPal, *, mode: str = "sandbox",
                   client_id: str = PAYPAL_CLIENT_ID, secret: str = PAYPAL_SECRET):
    if client_id not in fake.apps:
        fake.add_app(client_id, secret)
    return paypal_connect(store=store, actor=Actor.for_user(owner_of(store)),
                          client_id=client_id, client_secret=secret, mode=mode)


def post_paypal(client, store, event: dict, fake: FakePayPal, *, webhook_id: str | None = None,
                body: bytes | None = None, headers: dict | None = None):
    """Deliver ``event`` as PayPal does: the JSON body and the signed transmission headers."""
    raw = body if body is not None else json.dumps(event).encode()
    if headers is None:
        hook = webhook_id or PayPalConnection.objects.get(store=store).webhook_id
        headers = fake.headers_for(json.dumps(event).encode(), hook)
    meta = {f"HTTP_{k.replace('-', '_')}": v for k, v in headers.items()}
    return client.post(f"/pay/paypal/{store.public_id}/webhook/", data=raw,
                       content_type="application/json", **meta)
