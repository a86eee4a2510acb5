"""Fixtures for the Stripe tests: the fake Stripe API on 127.0.0.1 and connected stores."""

from __future__ import annotations

import json

import pytest

from shopkeep.payments.gateways.stripe_events import EVENTS
from shopkeep.payments.stripe_connect import stripe_connect, webhook_url
from shopkeep.stores.audit import Actor
from tests.factories import owner_of
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
