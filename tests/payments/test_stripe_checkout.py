"""Stripe one-time purchases and the webhook endpoint's answers (fake Stripe on 127.0.0.1)."""

from __future__ import annotations

import time

import pytest

from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.payments.models import GatewayEvent, StripeConnection
from tests.commerce import make_product, make_shop, place_order
from tests.payments.conftest import WHSEC, connect, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(fake_stripe):
    shop = make_shop()
    connect(shop, fake_stripe)
    return shop


@pytest.fixture
def order(store):
    return place_order(store, make_product(store, price="29.99"))


def _session(fake, order):
    return fake.objects[order.gateway_session_id]


def test_checkout_opens_a_stripe_session_for_the_order(fake_stripe, order):
    assert order.payment_gateway == "stripe"
    session = _session(fake_stripe, order)
    params = session["_params"]
    assert params["mode"] == "payment"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "2999"
    assert params["line_items"][0]["price_data"]["currency"] == "usd"
    assert params["client_reference_id"] == order.order_number
    assert params["payment_intent_data"]["metadata"]["shopkeep_order"] == order.order_number
    assert order.paid_at is None


def test_the_return_url_alone_does_not_pay(client, fake_stripe, order):
    fake_stripe.complete_session(order.gateway_session_id)  # paid at Stripe, no webhook yet
    page = client.get(f"/s/{order.store.slug}/order/{order.access_key}/")
    assert page.status_code == 200
    order.refresh_from_db()
    assert order.paid_at is None and order.payment_status != "paid"
    assert not Event.objects.filter(event_type="order.received").exists()


def test_a_signed_checkout_completed_pays_the_order_once(client, fake_stripe, store, order):
    completed, intent_succeeded = fake_stripe.complete_session(order.gateway_session_id)
    response = post_event(client, store, completed)
    assert response.status_code == 200
    assert response.json()["outcomes"] == [f"order {order.order_number} paid"]
    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert order.gateway_payment_id == completed["data"]["object"]["payment_intent"]
    # payment_intent.succeeded for the same payment, and the same event again: no change
    assert post_event(client, store, intent_succeeded).json()["outcomes"] == ["already paid"]
    assert post_event(client, store, completed).json()["outcomes"] == ["duplicate"]
    assert Event.objects.filter(event_type="order.received").count() == 1
    assert GatewayEvent.objects.filter(gateway="stripe").count() == 2


def test_payment_intent_succeeded_alone_pays_the_order(client, fake_stripe, store, order):
    _, intent_succeeded = fake_stripe.complete_session(order.gateway_session_id)
    post_event(client, store, intent_succeeded)
    order.refresh_from_db()
    assert order.payment_status == "paid"


def test_a_declined_attempt_records_payment_failed(client, fake_stripe, store, order):
    event = fake_stripe.event("payment_intent.payment_failed", {
        "id": "pi_declined", "object": "payment_intent", "amount": 2999, "currency": "usd",
        "metadata": {"shopkeep_order": order.order_number},
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds",
                               "message": "Your card has insufficient funds."}})
    assert post_event(client, store, event).status_code == 200
    failed = Event.objects.get(event_type="payment.failed")
    assert failed.data["error_code"] == "insufficient_funds"
    order.refresh_from_db()
    assert order.paid_at is None


def test_a_bad_signature_is_400_and_changes_nothing(client, fake_stripe, store, order):
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    response = post_event(client, store, completed, secret="whsec_SomeoneElsesSecret000000")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    order.refresh_from_db()
    assert order.paid_at is None
    assert not GatewayEvent.objects.exists()
    connection = StripeConnection.objects.get(store=store)
    assert connection.last_signature_failure_at is not None
    assert connection.first_event_at is None


@pytest.mark.parametrize("header", ["", "garbage", "t=notanumber,v1=abc", "t=123"])
def test_a_missing_or_malformed_signature_is_400(client, fake_stripe, store, order, header):
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    assert post_event(client, store, completed, header=header).status_code == 400
    order.refresh_from_db()
    assert order.paid_at is None


def test_a_signature_older_than_five_minutes_is_400(client, fake_stripe, store, order):
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    stale = int(time.time()) - 301
    assert post_event(client, store, completed, timestamp=stale).status_code == 400
    fresh_enough = int(time.time()) - 240
    assert post_event(client, store, completed, timestamp=fresh_enough).status_code == 200


def test_a_tampered_body_is_400(client, fake_stripe, store, order):
    import json

    from tests.payments.stripe_fake import sign

    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    body = json.dumps(completed).encode()
    header = sign(body, WHSEC)
    tampered = body.replace(b'"amount_total": 2999', b'"amount_total": 1')
    response = client.post(f"/pay/stripe/{store.public_id}/webhook/", data=tampered,
                           content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400


def test_an_unknown_event_type_is_200_and_ignored(client, fake_stripe, store):
    event = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})
    response = post_event(client, store, event)
    assert response.status_code == 200
    assert "not used" in response.json()["ignored"]
    assert not GatewayEvent.objects.exists()
    # ...but it proves the webhook works, which the settings page shows
    connection = StripeConnection.objects.get(store=store)
    assert connection.first_event_at is not None
    assert connection.last_event_type == "customer.created"


def test_an_event_naming_another_stores_order_changes_nothing(client, fake_stripe, store):
    other = make_shop()
    victim = place_order(other, make_product(other), gateway="sandbox")
    event = fake_stripe.event("payment_intent.succeeded", {
        "id": "pi_crafted", "object": "payment_intent", "amount": 1, "amount_received": 1,
        "currency": "usd", "metadata": {"shopkeep_order": victim.order_number}})
    response = post_event(client, store, event)
    assert response.json()["outcomes"] == ["ignored: not an order of this store"]
    victim.refresh_from_db()
    assert victim.paid_at is None
    assert not GatewayEvent.objects.exists()


def test_the_endpoint_of_a_store_without_stripe_is_404(client, fake_stripe, store, order):
    other = make_shop()
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    response = post_event(client, other, completed)
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).paid_at is None


def test_a_second_checkout_expires_the_first_session(fake_stripe, order):
    from shopkeep.payments.flows import checkout_start

    first = order.gateway_session_id
    checkout_start(order=order, success_url="https://x.test/ok", cancel_url="https://x.test/no")
    order.refresh_from_db()
    assert order.gateway_session_id != first
    assert fake_stripe.objects[first]["status"] == "expired"
    assert fake_stripe.objects[order.gateway_session_id]["status"] == "open"


def test_a_second_checkout_after_paying_at_stripe_is_refused(fake_stripe, order):
    from shopkeep.core.errors import ServiceError
    from shopkeep.payments.flows import checkout_start

    fake_stripe.complete_session(order.gateway_session_id)
    with pytest.raises(ServiceError, match="already paid"):
        checkout_start(order=order, success_url="https://x.test/ok",
                       cancel_url="https://x.test/no")


def test_a_live_store_with_a_test_key_refuses_checkout_clearly(fake_stripe, store):
    from shopkeep.core.errors import ServiceError

    store.test_mode = False
    store.save(update_fields=["test_mode"])
    with pytest.raises(ServiceError, match="test key"):
        place_order(store, make_product(store))
    assert not any(r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"
                   for r in fake_stripe.requests)


def test_a_test_mode_store_with_a_live_key_uses_the_sandbox(fake_stripe):
    from tests.payments.conftest import LIVE_KEY

    shop = make_shop()
    connect(shop, fake_stripe, key=LIVE_KEY)
    order = place_order(shop, make_product(shop))
    assert order.payment_gateway == "sandbox"


@pytest.mark.parametrize("body", [b"[]", b"not json", b"{\"type\": \"x\"}", b"\xff\xfe"])
def test_a_signed_body_that_is_not_an_event_is_400(client, fake_stripe, store, body):
    from tests.payments.stripe_fake import sign

    header = sign(body, WHSEC) if body != b"\xff\xfe" else "t=1,v1=00"
    response = client.post(f"/pay/stripe/{store.public_id}/webhook/", data=body,
                           content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert not GatewayEvent.objects.exists()


def test_an_oversized_body_is_413(client, fake_stripe, store):
    body = b"{" + b" " * (300 * 1024) + b"}"
    response = client.post(f"/pay/stripe/{store.public_id}/webhook/", data=body,
                           content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=0")
    assert response.status_code == 413
