"""Store API for subscriptions: list, detail, cancel."""

from __future__ import annotations

import json

import pytest

from shopkeep.events.models import Event
from shopkeep.payments.models import SandboxSubscription
from shopkeep.stores.models import AuditLog
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="shop")


@pytest.fixture
def monthly(store):
    return make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                        billing_interval="month")


@pytest.fixture
def sub(store, monthly, django_capture_on_commit_callbacks):
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    return Subscription.objects.get()


def _auth(store, *scopes: str) -> dict:
    _, raw = make_token(store, list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _cancel(client, sub_id: int, body: dict, headers: dict):
    return client.post(f"/api/v1/subscriptions/{sub_id}/cancel", data=json.dumps(body),
                       content_type="application/json", **headers)


def _cancelled_events() -> int:
    return Event.objects.filter(event_type="subscription.cancelled").count()


def test_every_route_without_a_token_is_401(client, sub):
    for path in ("/api/v1/subscriptions", f"/api/v1/subscriptions/{sub.pk}"):
        assert client.get(path).status_code == 401
    assert _cancel(client, sub.pk, {}, {}).status_code == 401
    sub.refresh_from_db()
    assert sub.status == "active"


def test_list_and_detail_show_money_as_strings(client, store, sub):
    headers = _auth(store, "subscriptions:read")
    listing = client.get("/api/v1/subscriptions", **headers).json()
    assert listing["meta"] == {"page": 1, "per_page": 50, "total": 1, "has_more": False}
    item = listing["items"][0]
    assert item["id"] == sub.pk and item["amount"] == "9.99" and item["currency"] == "USD"
    assert item["billing_interval"] == "month" and item["status"] == "active"
    detail = client.get(f"/api/v1/subscriptions/{sub.pk}", **headers).json()
    assert detail == item


def test_list_filters_by_status_and_customer(client, store, monthly, sub,
                                             django_capture_on_commit_callbacks):
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks,
               email="second@example.com")
    second = Subscription.objects.exclude(pk=sub.pk).get()
    Subscription.objects.filter(pk=second.pk).update(status="past_due")
    headers = _auth(store, "subscriptions:read")

    def ids(**params) -> list[int]:
        response = client.get("/api/v1/subscriptions", params, **headers)
        return [s["id"] for s in response.json()["items"]]

    assert sorted(ids()) == sorted([sub.pk, second.pk])
    assert ids(status="active") == [sub.pk]
    assert ids(status="past_due") == [second.pk]
    assert ids(customer_id=second.customer_id) == [second.pk]
    assert ids(status="canceled") == []
    assert len(ids(per_page=1)) == 1


def test_a_read_token_cannot_cancel(client, store, sub):
    events = _cancelled_events()
    response = _cancel(client, sub.pk, {}, _auth(store, "subscriptions:read"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    sub.refresh_from_db()
    assert sub.status == "active" and _cancelled_events() == events


def test_cancel_at_period_end_is_the_default_and_keeps_access_until_then(client, store, sub):
    response = _cancel(client, sub.pk, {"reason": "too pricey"},
                       _auth(store, "subscriptions:write"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "canceled" and body["cancel_at_period_end"] is True
    assert body["cancel_reason"] == "too pricey" and body["ended_at"] is None
    sub.refresh_from_db()
    assert sub.ends_at == sub.current_period_end
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).cancel_at_period_end
    assert AuditLog.objects.filter(action="subscription.cancelled").count() == 1


def test_cancel_now_ends_access_and_a_second_cancel_is_409(client, store, sub):
    headers = _auth(store, "subscriptions:write")
    response = _cancel(client, sub.pk, {"at_period_end": False}, headers)
    assert response.status_code == 200
    assert response.json()["status"] == "canceled" and response.json()["ended_at"] is not None
    again = _cancel(client, sub.pk, {}, headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_cancelled"
    assert _cancelled_events() == 1


def test_cancel_validation_errors_are_422(client, store, sub):
    headers = _auth(store, "subscriptions:write")
    for body in ({"at_period_end": "perhaps"}, {"reason": "x" * 301}):
        response = _cancel(client, sub.pk, body, headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
    sub.refresh_from_db()
    assert sub.status == "active"


def test_an_outsider_token_gets_404_and_cancels_nothing(client, store, sub):
    outsider = make_shop(slug="other")
    headers = _auth(outsider, "subscriptions:read", "subscriptions:write")
    events = _cancelled_events()
    assert client.get(f"/api/v1/subscriptions/{sub.pk}", **headers).status_code == 404
    response = _cancel(client, sub.pk, {"at_period_end": False}, headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    listing = client.get("/api/v1/subscriptions", {"customer_id": sub.customer_id}, **headers)
    assert listing.json()["meta"]["total"] == 0
    sub.refresh_from_db()
    assert sub.status == "active" and sub.canceled_at is None
    assert _cancelled_events() == events
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).status == "active"
