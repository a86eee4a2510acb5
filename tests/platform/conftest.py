"""Platform billing against the local fake Stripe (tests/payments/stripe_fake.py), served
on 127.0.0.1 and driven through the stripe library."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from shopkeep.stores.models import BillingPlan
from tests.payments.conftest import _fake_server, fake_stripe  # noqa: F401  (fixtures)
from tests.payments.stripe_fake import sign

PLATFORM_KEY = "sk_test_51PlatformAccountKeyForBilling000"
PLATFORM_WHSEC = "whsec_PlatformBillingSigningSecret0001"


@pytest.fixture
def billing(fake_stripe, settings):  # noqa: F811
    settings.SHOPKEEP_PLATFORM_BILLING = "stripe"
    settings.PLATFORM_STRIPE_SECRET_KEY = PLATFORM_KEY
    settings.PLATFORM_STRIPE_WEBHOOK_SECRET = PLATFORM_WHSEC
    fake_stripe.add_account(PLATFORM_KEY, name="Shopkeep Platform")
    free = BillingPlan.objects.create(key="free", name="Free", sla_tier="free",
                                      is_default=True, max_servers=1, max_products=3,
                                      max_members=2, max_webhook_endpoints=1, sort=0)
    growth = BillingPlan.objects.create(
        key="growth", name="Growth", sla_tier="growth", price_month="19.00",
        price_year="190.00", trial_days=0, max_servers=5, max_products=None, max_members=10,
        max_webhook_endpoints=5, sort=1,
        stripe_price_month=fake_stripe.add_price(1900, interval="month", product="Growth"),
        stripe_price_year=fake_stripe.add_price(19000, interval="year", product="Growth"))
    return {"fake": fake_stripe, "free": free, "growth": growth}


def post_event(event: dict, *, secret: str = PLATFORM_WHSEC, header: str | None = None):
    body = json.dumps(event).encode()
    return Client().post("/platform/billing/stripe/webhook/", body,
                         content_type="application/json",
                         headers={"Stripe-Signature": header or sign(body, secret)})
