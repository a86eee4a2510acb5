"""Store API for orders, refunds (with Idempotency-Key), subscriptions and disputes."""

from __future__ import annotations

import json

import pytest

from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.models import IdempotencyKey, Order, Refund
from shopkeep.payments.gateways.sandbox import SandboxGateway
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="shop")


@pytest.fixture
def product(store):
    return make_product(store)


@pytest.fixture
def order(store, product, django_capture_on_commit_callbacks):
    return paid_order(store, product, capture=django_capture_on_commit_callbacks)


def _auth(store, *scopes: str) -> dict:
    _, raw = make_token(store, list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _post(client, path: str, body: dict, headers: dict, key: str | None = None):
    extra = dict(headers)
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(f"/api/v1{path}", data=json.dumps(body),
                       content_type="application/json", **extra)


def _checkout_body(product, **overrides) -> dict:
    body = {"items": [{"product_id": product.pk, "quantity": 2}],
            "customer": {"email": "alex@example.com", "player_name": "Alex_1"},
            "success_url": "https://example.com/thanks", "cancel_url": "https://example.com/"}
    body.update(overrides)
    return body


def test_orders_list_and_detail_with_filters(client, store, order):
    headers = _auth(store, "orders:read")
    listing = client.get("/api/v1/orders", {"payment_status": "paid"}, **headers).json()
    assert listing["meta"]["total"] == 1
    assert listing["items"][0]["order_number"] == order.order_number
    assert listing["items"][0]["total"] == "29.99"
    assert client.get("/api/v1/orders", {"status": "refunded"},
                      **headers).json()["meta"]["total"] == 0
    detail = client.get(f"/api/v1/orders/{order.pk}", **headers).json()
    assert detail["items"][0]["product_name"] == "VIP Rank" and detail["refunds"] == []


def test_headless_checkout_creates_a_pending_order_with_a_payment_url(client, store, product):
    response = _post(client, "/orders", _checkout_body(product), _auth(store, "orders:write"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["total"] == "59.98"
    assert "/pay/sandbox/cs_test_" in body["checkout_url"]


def test_headless_checkout_refuses_another_stores_product_and_bad_urls(client, store, product):
    foreign = make_product(make_shop(slug="other"), name="Foreign")
    headers = _auth(store, "orders:write")
    response = _post(client, "/orders", _checkout_body(
        foreign, items=[{"product_id": foreign.pk, "quantity": 1}]), headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "product_unavailable"
    response = _post(client, "/orders", _checkout_body(product,
                                                       success_url="javascript:alert(1)"),
                     headers)
    assert response.json()["error"]["code"] == "invalid_url"
    assert not Order.objects.exists()


def test_a_read_token_cannot_create_orders_or_refunds(client, store, product, order):
    headers = _auth(store, "orders:read")
    assert _post(client, "/orders", _checkout_body(product), headers).status_code == 403
    assert _post(client, f"/orders/{order.pk}/refunds", {}, headers).status_code == 403
    assert Order.objects.count() == 1 and not Refund.objects.exists()


def test_refund_is_accepted_as_pending_and_listed(client, store, order):
    headers = _auth(store, "orders:write")
    response = _post(client, f"/orders/{order.pk}/refunds", {"amount": "5.00",
                                                             "reason": "goodwill"}, headers)
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and response.json()["amount"] == "5.00"
    listing = client.get(f"/api/v1/orders/{order.pk}/refunds", **headers).json()
    assert [r["amount"] for r in listing["items"]] == ["5.00"]


def test_refund_over_the_remaining_amount_is_refused_and_writes_nothing(client, store, order):
    response = _post(client, f"/orders/{order.pk}/refunds", {"amount": "30.00"},
                     _auth(store, "orders:write"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_too_large"
    assert not Refund.objects.exists()


def test_a_retried_refund_with_the_same_key_replays_without_refunding_twice(client, store,
                                                                            order):
    headers = _auth(store, "orders:write")
    first = _post(client, f"/orders/{order.pk}/refunds", {"amount": "5.00"}, headers, "k-1")
    again = _post(client, f"/orders/{order.pk}/refunds", {"amount": "5.00"}, headers, "k-1")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Refund.objects.count() == 1


def test_a_key_reused_for_another_request_is_422_and_an_in_flight_key_409(client, store,
                                                                          order):
    headers = _auth(store, "orders:write")
    _post(client, f"/orders/{order.pk}/refunds", {"amount": "5.00"}, headers, "k-2")
    reused = _post(client, f"/orders/{order.pk}/refunds", {"amount": "6.00"}, headers, "k-2")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    IdempotencyKey.objects.create(store=store, key="k-3", request_hash="x" * 64)
    IdempotencyKey.objects.filter(key="k-3").update(
        request_hash=IdempotencyKey.objects.get(key="k-2").request_hash)
    busy = _post(client, f"/orders/{order.pk}/refunds", {"amount": "5.00"}, headers, "k-3")
    assert busy.status_code == 409
    assert Refund.objects.count() == 1


def test_refusals_are_replayed_too(client, store, order):
    headers = _auth(store, "orders:write")
    first = _post(client, f"/orders/{order.pk}/refunds", {"amount": "99.00"}, headers, "k-4")
    again = _post(client, f"/orders/{order.pk}/refunds", {"amount": "99.00"}, headers, "k-4")
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"


def test_a_bad_idempotency_key_is_refused(client, store, order):
    response = _post(client, f"/orders/{order.pk}/refunds", {}, _auth(store, "orders:write"),
                     "has space")
    assert response.status_code == 400
    assert not Refund.objects.exists()


def test_headless_checkout_with_a_key_creates_one_order(client, store, product):
    headers = _auth(store, "orders:write")
    first = _post(client, "/orders", _checkout_body(product), headers, "order-1")
    again = _post(client, "/orders", _checkout_body(product), headers, "order-1")
    assert first.json()["order_number"] == again.json()["order_number"]
    assert Order.objects.count() == 1


def test_subscriptions_list_and_cancel(client, store, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get()
    read = _auth(store, "subscriptions:read")
    assert client.get("/api/v1/subscriptions", **read).json()["items"][0]["amount"] == "9.99"
    assert _post(client, f"/subscriptions/{sub.pk}/cancel", {}, read).status_code == 403
    response = _post(client, f"/subscriptions/{sub.pk}/cancel", {"at_period_end": False},
                     _auth(store, "subscriptions:write"))
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    assert response.json()["ended_at"] is not None
    again = _post(client, f"/subscriptions/{sub.pk}/cancel", {},
                  _auth(store, "subscriptions:write"))
    assert again.status_code == 409
    assert Event.objects.filter(event_type="subscription.cancelled").count() == 1


def test_disputes_list_in_minor_units(client, store, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_dispute(payment_id=order.gateway_payment_id)
    body = client.get("/api/v1/disputes", **_auth(store, "orders:read")).json()
    assert body["items"][0]["amount"] == 2999 and body["items"][0]["amount_decimal"] == "29.99"


def test_an_outsider_token_gets_404_everywhere_and_changes_nothing(
        client, store, order, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks, email="b@example.com")
    sub = Subscription.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_dispute(payment_id=order.gateway_payment_id)
    dispute = Dispute.objects.get()
    outsider = make_shop(slug="other")
    headers = _auth(outsider, "orders:write", "subscriptions:write")
    for path in (f"/orders/{order.pk}", f"/orders/{order.pk}/refunds",
                 f"/subscriptions/{sub.pk}", f"/disputes/{dispute.pk}"):
        assert client.get(f"/api/v1{path}", **headers).status_code == 404, path
    assert _post(client, f"/orders/{order.pk}/refunds", {}, headers).status_code == 404
    assert _post(client, f"/subscriptions/{sub.pk}/cancel", {}, headers).status_code == 404
    assert client.get("/api/v1/orders", **headers).json()["meta"]["total"] == 0
    assert not Refund.objects.exists()
    sub.refresh_from_db()
    assert sub.status == "active"


def test_openapi_lists_the_commerce_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}/refunds",
                 "/api/v1/subscriptions/{subscription_id}/cancel", "/api/v1/disputes"):
        assert path in paths
