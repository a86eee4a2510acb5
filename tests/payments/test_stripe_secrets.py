"""A Stripe secret never leaves the database sealed: not in logs (every logger at DEBUG,
including the stripe library's), pages, API output, audit rows or stored events."""

from __future__ import annotations

import json
import logging

import pytest

from shopkeep.payments.flows import refund_execute, refund_request, subscriptions_reconcile
from shopkeep.payments.models import GatewayEvent
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, make_shop, place_order
from tests.factories import make_token, owner_of
from tests.payments.conftest import TEST_KEY, WHSEC, connect, post_event

pytestmark = pytest.mark.django_db
SECRETS = (TEST_KEY, WHSEC, TEST_KEY[8:], WHSEC[6:])


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_no_secret_in_logs_pages_api_or_rows_across_a_whole_lifecycle(client, fake_stripe,
                                                                      caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("stripe").setLevel(logging.DEBUG)
    store = make_shop()
    owner = owner_of(store)
    # a refused attempt first (Stripe does not know the key yet), then the real connection
    client.force_login(owner)
    refused = client.post(f"/dashboard/{store.slug}/settings/payments/",
                          {"secret_key": TEST_KEY, "webhook_secret": WHSEC})
    connect(store, fake_stripe)
    # a one-time purchase, a bad and a good webhook, a refund through Stripe
    order = place_order(store, make_product(store))
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    bad = post_event(client, store, completed, secret="whsec_WrongSecret00000000000")
    good = post_event(client, store, completed)
    order.refresh_from_db()
    refund = refund_request(store=store, actor=Actor.for_user(owner), order=order, amount="1")
    refund_execute(refund_id=refund.pk)
    # a subscription, reconciled against Stripe
    sub_order = place_order(store, make_product(store, name="VIP", type="subscription",
                                                billing_interval="month"))
    _, invoice = fake_stripe.complete_session(sub_order.gateway_session_id)
    post_event(client, store, invoice)
    subscriptions_reconcile()
    # everything the owner can read back
    page = client.get(f"/dashboard/{store.slug}/settings/payments/")
    audit_page = client.get(f"/dashboard/{store.slug}/settings/audit/")
    _, raw = make_token(store, ["store:read"])
    api = client.get("/api/v1/payments/stripe", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert refused.status_code == 400 and bad.status_code == 400 and good.status_code == 200
    assert page.status_code == 200 and api.status_code == 200
    assert any(r.name == "stripe" for r in caplog.records)  # the library's logs were captured
    _clean("\n".join(r.getMessage() for r in caplog.records))
    _clean(caplog.text)
    for response in (refused, bad, good, page, audit_page, api):
        _clean(response.content.decode())
    _clean(json.dumps(list(AuditLog.objects.values("action", "details")), default=str))
    _clean(json.dumps(list(GatewayEvent.objects.values("payload")), default=str))
    assert AuditLog.objects.filter(action="payments.stripe_connected").exists()
