"""Store API for disputes: read-only list and detail, amounts in minor units."""

from __future__ import annotations

import pytest

from shopkeep.disputes.models import Dispute
from shopkeep.payments.gateways.sandbox import SandboxGateway
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="shop")


@pytest.fixture
def product(store):
    return make_product(store)


def _dispute(order, capture) -> Dispute:
    with capture(execute=True):
        gateway_id = SandboxGateway().simulate_dispute(payment_id=order.gateway_payment_id)
    return Dispute.objects.get(gateway_dispute_id=gateway_id)


@pytest.fixture
def order(store, product, django_capture_on_commit_callbacks):
    return paid_order(store, product, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def dispute(order, django_capture_on_commit_callbacks):
    return _dispute(order, django_capture_on_commit_callbacks)


def _auth(store, *scopes: str) -> dict:
    _, raw = make_token(store, list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_routes_need_a_token_with_orders_read(client, store, dispute):
    for path in ("/api/v1/disputes", f"/api/v1/disputes/{dispute.pk}"):
        assert client.get(path).status_code == 401
        assert client.get(path, **_auth(store, "subscriptions:read")).status_code == 403


def test_detail_has_the_amount_in_minor_units_and_as_a_decimal(client, store, order, dispute):
    body = client.get(f"/api/v1/disputes/{dispute.pk}", **_auth(store, "orders:read")).json()
    assert body["id"] == dispute.pk and body["order_id"] == order.pk
    assert body["dispute_id"] == dispute.gateway_dispute_id
    assert body["amount"] == 2999 and body["amount_decimal"] == "29.99"
    assert body["currency"] == "USD" and body["status"] == "needs_response"
    assert body["reason"] == "fraudulent" and body["evidence_due_by"]


def test_yen_disputes_have_no_decimals(client, django_capture_on_commit_callbacks):
    shop = make_shop(slug="yen", currency="JPY")
    yen_order = paid_order(shop, make_product(shop, price="1500"),
                           capture=django_capture_on_commit_callbacks)
    _dispute(yen_order, django_capture_on_commit_callbacks)
    item = client.get("/api/v1/disputes", **_auth(shop, "orders:read")).json()["items"][0]
    assert item["amount"] == 1500 and item["amount_decimal"] == "1500"


def test_list_filters_by_status_and_order_and_paginates(client, store, product, order, dispute,
                                                        django_capture_on_commit_callbacks):
    second_order = paid_order(store, product, capture=django_capture_on_commit_callbacks,
                              email="second@example.com")
    second = _dispute(second_order, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_dispute_close(
            payment_id=second_order.gateway_payment_id, dispute_id=second.gateway_dispute_id,
            status="won", amount_minor=2999, reason="fraudulent")
    headers = _auth(store, "orders:read")

    def ids(**params) -> list[int]:
        response = client.get("/api/v1/disputes", params, **headers)
        assert response.status_code == 200
        return [d["id"] for d in response.json()["items"]]

    assert sorted(ids()) == sorted([dispute.pk, second.pk])
    assert ids(status="needs_response") == [dispute.pk]
    assert ids(status="won") == [second.pk]
    assert ids(order_id=order.pk) == [dispute.pk]
    page = client.get("/api/v1/disputes", {"per_page": 1}, **headers).json()
    assert len(page["items"]) == 1
    assert page["meta"] == {"page": 1, "per_page": 1, "total": 2, "has_more": True}


def test_an_outsider_token_gets_404_and_sees_no_disputes(client, order, dispute):
    headers = _auth(make_shop(slug="other"), "orders:read", "orders:write")
    response = client.get(f"/api/v1/disputes/{dispute.pk}", **headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/disputes", **headers).json()["meta"]["total"] == 0
    assert client.get("/api/v1/disputes", {"order_id": order.pk},
                      **headers).json()["items"] == []


def test_disputes_cannot_be_written_through_the_api(client, store, dispute):
    headers = _auth(store, "orders:read", "orders:write")
    response = client.post(f"/api/v1/disputes/{dispute.pk}", data="{}",
                           content_type="application/json", **headers)
    assert response.status_code == 405
    dispute.refresh_from_db()
    assert dispute.status == "needs_response"
