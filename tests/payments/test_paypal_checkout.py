"""PayPal one-time purchases (Orders v2 on the fake PayPal): approve, capture on return and
from the webhook, verified webhooks, replays, and the gateway choice at checkout."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django_tasks_db.models import DBTaskResult

from shopkeep.core.errors import ServiceError
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.payments.flows import checkout_start
from shopkeep.payments.models import GatewayEvent, PayPalConnection, PayPalEvent
from shopkeep.payments.paypal_worker import paypal_capture_apply, paypal_sweep_approved
from shopkeep.payments.selectors import checkout_gateways
from tests.commerce import make_product, make_shop, place_order
from tests.payments.conftest import connect, connect_paypal, post_paypal

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(fake_paypal):
    shop = make_shop()
    connect_paypal(shop, fake_paypal)
    return shop


@pytest.fixture
def order(store):
    return place_order(store, make_product(store, price="29.99"))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _return_url(fake, order) -> str:
    return fake.objects[order.gateway_session_id]["_context"]["return_url"]


def run_paypal_tasks() -> list[list[str]]:
    """Run the queued captures from their stored (JSON) arguments, as the worker would."""
    outcomes = []
    for row in DBTaskResult.objects.filter(task_path__endswith="paypal_capture",
                                           status="READY").order_by("enqueued_at"):
        connection_id, paypal_order_id = row.args_kwargs["args"]
        outcomes.append(paypal_capture_apply(connection_id=connection_id,
                                             paypal_order_id=paypal_order_id))
        row.delete()
    return outcomes


def test_checkout_creates_a_paypal_order_and_sends_the_buyer_to_approve_it(fake_paypal, order):
    assert order.payment_gateway == "paypal"
    created = fake_paypal.objects[order.gateway_session_id]
    unit = created["purchase_units"][0]
    assert created["intent"] == "CAPTURE"
    assert unit["custom_id"] == order.order_number
    assert unit["amount"] == {"currency_code": "USD", "value": "29.99"}
    context = created["_context"]
    assert context["return_url"].startswith(
        f"https://shop.example.com/pay/paypal/{order.store.public_id}/return/?r=")
    assert context["shipping_preference"] == "NO_SHIPPING"
    (call,) = [r for r in fake_paypal.requests if r["path"] == "/v2/checkout/orders"]
    assert call["request_id"] == f"sk-order-{order.order_number}-first"
    assert order.paid_at is None


def test_a_second_payment_attempt_reuses_the_open_paypal_order(fake_paypal, order):
    url = checkout_start(order=order, success_url="/done", cancel_url="/basket")
    order.refresh_from_db()
    assert url == f"{fake_paypal.url}/checkoutnow?token={order.gateway_session_id}"
    assert len([r for r in fake_paypal.requests if r["path"] == "/v2/checkout/orders"]) == 1


def test_returning_without_approving_pays_nothing(client, fake_paypal, order):
    response = client.get(_path(_return_url(fake_paypal, order))
                          + f"&token={order.gateway_session_id}&PayerID=X")
    assert response.status_code == 303
    order.refresh_from_db()
    assert order.paid_at is None
    assert not Event.objects.filter(event_type="order.received").exists()


def test_a_forged_return_link_is_refused(client, fake_paypal, order):
    fake_paypal.approve(order.gateway_session_id)
    response = client.get(f"/pay/paypal/{order.store.public_id}/return/?r=forged"
                          f"&token={order.gateway_session_id}")
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.paid_at is None


def test_the_return_after_approval_captures_once_and_pays(client, fake_paypal, order):
    fake_paypal.approve(order.gateway_session_id)
    response = client.get(_path(_return_url(fake_paypal, order))
                          + f"&token={order.gateway_session_id}&PayerID=FAKEPAYER1")
    assert response.status_code == 303
    assert response["Location"] == f"/done/{order.access_key}"
    order.refresh_from_db()
    (capture,) = fake_paypal.captures_of(order.gateway_session_id)
    assert order.payment_status == "paid" and order.gateway_payment_id == capture["id"]
    calls = [r for r in fake_paypal.requests if r["path"].endswith("/capture")]
    assert [c["request_id"] for c in calls] == [f"sk-capture-{order.gateway_session_id}"]
    # The buyer reloads the return page: PayPal answers the same capture, nothing changes.
    client.get(_path(_return_url(fake_paypal, order)) + f"&token={order.gateway_session_id}")
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_checkout_order_approved_webhook_captures_in_the_worker(client, fake_paypal, store,
                                                               order):
    (approved,) = fake_paypal.approve(order.gateway_session_id)
    response = post_paypal(client, store, approved, fake_paypal)
    assert response.json()["outcomes"] == ["queued: CHECKOUT.ORDER.APPROVED"]
    order.refresh_from_db()
    assert order.paid_at is None  # the request only queued the capture
    assert run_paypal_tasks() == [[f"order {order.order_number} paid"]]
    order.refresh_from_db()
    assert order.payment_status == "paid"


def test_the_return_and_the_webhook_both_capturing_pay_once(client, fake_paypal, store, order):
    (approved,) = fake_paypal.approve(order.gateway_session_id)
    post_paypal(client, store, approved, fake_paypal)
    client.get(_path(_return_url(fake_paypal, order)) + f"&token={order.gateway_session_id}")
    assert run_paypal_tasks() == [["duplicate"]]  # the same capture, recorded once
    (capture,) = fake_paypal.captures_of(order.gateway_session_id)
    completed = fake_paypal.capture_event(capture["id"])
    assert post_paypal(client, store, completed, fake_paypal).json()["outcomes"] == [
        "already paid"]
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_capture_completed_webhook_alone_pays_and_its_replay_is_a_no_op(client, fake_paypal,
                                                                        store, order):
    fake_paypal.approve(order.gateway_session_id)
    run_paypal_tasks()
    DBTaskResult.objects.all().delete()
    # Captured by someone else (PayPal's view); Shopkeep hears of it only from the event.
    paypal_order = fake_paypal.objects[order.gateway_session_id]
    capture = fake_paypal._capture(paypal_order)
    event = fake_paypal.capture_event(capture["id"])
    assert post_paypal(client, store, event, fake_paypal).json()["outcomes"] == [
        f"order {order.order_number} paid"]
    assert post_paypal(client, store, event, fake_paypal).json()["outcomes"] == ["duplicate"]
    order.refresh_from_db()
    assert order.payment_status == "paid" and order.gateway_payment_id == capture["id"]
    assert PayPalEvent.objects.filter(event_id=event["id"]).count() == 1
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_a_declined_capture_records_the_failed_payment(client, fake_paypal, store, order):
    paypal_order = fake_paypal.objects[order.gateway_session_id]
    paypal_order["_decline"] = True
    fake_paypal.approve(order.gateway_session_id)
    connection = PayPalConnection.objects.get(store=store)
    assert paypal_capture_apply(connection_id=connection.pk,
                                paypal_order_id=order.gateway_session_id) == [
        f"order {order.order_number} payment failed"]
    order.refresh_from_db()
    assert order.paid_at is None and order.payment_status == "failed"


# -- verification -----------------------------------------------------------------------------

def _capture_event(fake, order):
    fake.approve(order.gateway_session_id)
    capture = fake._capture(fake.objects[order.gateway_session_id])
    return fake.capture_event(capture["id"])


def _nothing_changed(order):
    order.refresh_from_db()
    assert order.paid_at is None
    assert not PayPalEvent.objects.exists() and not GatewayEvent.objects.exists()
    assert not Event.objects.filter(event_type="order.received").exists()


def test_a_tampered_body_is_refused_and_changes_nothing(client, fake_paypal, store, order):
    event = _capture_event(fake_paypal, order)
    hook = PayPalConnection.objects.get(store=store).webhook_id
    headers = fake_paypal.headers_for(json.dumps(event).encode(), hook)
    event["resource"]["amount"]["value"] = "0.01"
    response = post_paypal(client, store, event, fake_paypal, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    _nothing_changed(order)
    assert PayPalConnection.objects.get(store=store).last_signature_failure_at is not None


def test_missing_transmission_headers_are_refused_without_asking_paypal(client, fake_paypal,
                                                                       store, order):
    event = _capture_event(fake_paypal, order)
    before = len(fake_paypal.requests)
    response = post_paypal(client, store, event, fake_paypal, headers={})
    assert response.status_code == 400
    assert "PAYPAL-TRANSMISSION-SIG" in response.json()["error"]["message"]
    assert len(fake_paypal.requests) == before
    _nothing_changed(order)


def test_an_event_signed_for_another_webhook_is_refused(client, fake_paypal, store, order):
    event = _capture_event(fake_paypal, order)
    response = post_paypal(client, store, event, fake_paypal, webhook_id="WH-SOMEONE-ELSE")
    assert response.status_code == 400
    _nothing_changed(order)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"id": "WH-1"}'])
def test_a_body_that_is_not_an_event_is_refused(client, fake_paypal, store, order, body):
    response = post_paypal(client, store, {}, fake_paypal, body=body)
    assert response.status_code == 400
    _nothing_changed(order)


def test_paypal_unreachable_for_verification_answers_503_and_changes_nothing(
        client, fake_paypal, store, order):
    event = _capture_event(fake_paypal, order)
    fake_paypal.unreachable = True
    response = post_paypal(client, store, event, fake_paypal)
    fake_paypal.unreachable = False
    assert response.status_code == 503 and response["Retry-After"] == "60"
    _nothing_changed(order)


def test_an_event_about_another_stores_order_changes_nothing(client, fake_paypal, store):
    other = make_shop()
    victim = place_order(other, make_product(other), gateway="sandbox")
    event = fake_paypal.event("PAYMENT.CAPTURE.COMPLETED", {
        "id": "CAPFORGED", "status": "COMPLETED", "custom_id": victim.order_number,
        "amount": {"currency_code": "USD", "value": "29.99"}})
    response = post_paypal(client, store, event, fake_paypal)
    assert response.json()["outcomes"] == ["ignored: nothing of this store's"]
    victim.refresh_from_db()
    assert victim.paid_at is None


def test_the_webhook_of_a_store_without_paypal_is_404(client, fake_paypal):
    shop = make_shop()
    response = client.post(f"/pay/paypal/{shop.public_id}/webhook/", data=b"{}",
                           content_type="application/json")
    assert response.status_code == 404


# -- the sweep and the gateway choice ---------------------------------------------------------

def test_the_sweep_captures_an_approved_order_whose_return_and_webhook_were_lost(
        fake_paypal, order):
    fake_paypal.approve(order.gateway_session_id)
    Order.objects.filter(pk=order.pk).update(updated_at=order.created_at - timedelta(minutes=10))
    lines = paypal_sweep_approved()
    assert lines == [f"order {order.order_number}: order {order.order_number} paid"]
    order.refresh_from_db()
    assert order.payment_status == "paid"


def test_both_gateways_are_offered_when_both_are_connected(fake_paypal, fake_stripe, store):
    connect(store, fake_stripe)
    assert checkout_gateways(store=store) == ["stripe", "paypal"]
    order = place_order(store, make_product(store), gateway="paypal")
    assert order.payment_gateway == "paypal" and order.gateway_session_id


def test_a_gateway_the_store_does_not_offer_is_refused(store):
    with pytest.raises(ServiceError) as err:
        place_order(store, make_product(store), gateway="stripe")
    assert err.value.code == "gateway_unavailable" and err.value.field == "gateway"
    assert not Order.objects.exists()


def test_live_paypal_is_not_offered_in_test_mode(fake_paypal):
    shop = make_shop()
    connect_paypal(shop, fake_paypal, mode="live")
    assert checkout_gateways(store=shop) == ["sandbox"]


def test_headless_checkout_can_choose_paypal_and_get_its_approve_link(client, fake_paypal,
                                                                      fake_stripe, store):
    from tests.factories import make_token

    connect(store, fake_stripe)
    product = make_product(store)
    _, token = make_token(store, scopes=["orders:write"])
    body = {"items": [{"product_id": product.pk, "quantity": 1}],
            "customer": {"email": "p@example.com", "player_name": "Steve"},
            "gateway": "paypal", "success_url": "https://game.example.com/thanks",
            "cancel_url": "https://game.example.com/basket"}
    response = client.post("/api/v1/orders", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert order.payment_gateway == "paypal"
    assert response.json()["checkout_url"] == (
        f"{fake_paypal.url}/checkoutnow?token={order.gateway_session_id}")
    fake_paypal.approve(order.gateway_session_id)
    back = client.get(_path(_return_url(fake_paypal, order)) + f"&token={order.gateway_session_id}")
    assert back["Location"] == "https://game.example.com/thanks"
    order.refresh_from_db()
    assert order.payment_status == "paid"


def test_headless_checkout_with_a_gateway_not_offered_is_refused(client, store):
    from tests.factories import make_token

    product = make_product(store)
    _, token = make_token(store, scopes=["orders:write"])
    response = client.post("/api/v1/orders", {
        "items": [{"product_id": product.pk, "quantity": 1}],
        "customer": {"email": "p@example.com", "player_name": "Steve"}, "gateway": "stripe",
        "success_url": "https://game.example.com/thanks",
        "cancel_url": "https://game.example.com/basket"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "gateway_unavailable"
    assert not Order.objects.exists()
