"""Store API for orders: list, detail, headless checkout, refunds, Idempotency-Key."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shopkeep.core.scheduler import registered_jobs
from shopkeep.customers.models import Customer
from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.idempotency import idempotency_keys_prune
from shopkeep.orders.models import IdempotencyKey, Order, Refund
from shopkeep.payments.flows import refund_execute
from shopkeep.payments.gateways.sandbox import SandboxGateway
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, make_shop, paid_order, place_order
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


def _post(client, path: str, body: dict | str, headers: dict, key: str | None = None):
    extra = dict(headers)
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/api/v1{path}", data=data, content_type="application/json", **extra)


def _checkout_body(product, **overrides) -> dict:
    body = {"items": [{"product_id": product.pk, "quantity": 2}],
            "customer": {"email": "alex@example.com", "player_name": "Alex_1"},
            "success_url": "https://example.com/thanks", "cancel_url": "https://example.com/"}
    body.update(overrides)
    return body


def _total(client, headers, **params) -> int:
    response = client.get("/api/v1/orders", params, **headers)
    assert response.status_code == 200, response.content
    return response.json()["meta"]["total"]


# -- authentication and scopes ------------------------------------------------------------


def test_every_route_without_a_token_is_401_json_and_writes_nothing(client, order, product):
    for path in ("/orders", f"/orders/{order.pk}", f"/orders/{order.pk}/refunds"):
        response = client.get(f"/api/v1{path}")
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthenticated"
    assert _post(client, "/orders", _checkout_body(product), {}).status_code == 401
    assert _post(client, f"/orders/{order.pk}/refunds", {}, {}, key="k").status_code == 401
    assert Order.objects.count() == 1
    assert not Refund.objects.exists() and not IdempotencyKey.objects.exists()


def test_a_read_token_cannot_create_orders_or_refunds(client, store, product, order):
    headers = _auth(store, "orders:read")
    denied = _post(client, "/orders", _checkout_body(product), headers, key="a")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "insufficient_scope"
    assert _post(client, f"/orders/{order.pk}/refunds", {}, headers, key="b").status_code == 403
    assert Order.objects.count() == 1 and Customer.objects.count() == 1
    assert not Refund.objects.exists() and not IdempotencyKey.objects.exists()


def test_a_token_without_orders_scopes_cannot_read_orders(client, store, order):
    response = client.get("/api/v1/orders", **_auth(store, "products:read"))
    assert response.status_code == 403


# -- list and detail -----------------------------------------------------------------------


def test_orders_list_filters(client, store, product, order, django_capture_on_commit_callbacks):
    pending = place_order(store, product, email="Other@Example.com")
    headers = _auth(store, "orders:read")
    assert _total(client, headers) == 2
    assert _total(client, headers, payment_status="paid") == 1
    assert _total(client, headers, status="pending") == 1
    assert _total(client, headers, status="refunded") == 0
    assert _total(client, headers, email="other@example.COM") == 1
    assert _total(client, headers, order_number=order.order_number) == 1
    assert _total(client, headers, customer_id=order.customer_id) == 1
    assert _total(client, headers, customer_id=pending.customer_id) == 1
    assert _total(client, headers, is_test_order="true") == 2  # the store is in test mode
    assert _total(client, headers, is_test_order="false") == 0
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=3))
    day_ago = (timezone.now() - timedelta(days=1)).isoformat()
    assert _total(client, headers, created_after=day_ago) == 1
    assert _total(client, headers, created_before=day_ago) == 1
    # A timestamp without an offset is UTC, not an error.
    naive = (timezone.now() - timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert _total(client, headers, created_after=naive) == 1
    bad = client.get("/api/v1/orders", {"created_after": "yesterday"}, **headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_orders_list_paginates_newest_first(client, store, product, order):
    newer = place_order(store, product)
    headers = _auth(store, "orders:read")
    first = client.get("/api/v1/orders", {"per_page": 1}, **headers).json()
    assert first["meta"] == {"page": 1, "per_page": 1, "total": 2, "has_more": True}
    assert [o["id"] for o in first["items"]] == [newer.pk]
    second = client.get("/api/v1/orders", {"per_page": 1, "page": 2}, **headers).json()
    assert second["meta"]["has_more"] is False
    assert [o["id"] for o in second["items"]] == [order.pk]
    assert client.get("/api/v1/orders", {"per_page": 101}, **headers).status_code == 422


def test_order_detail_has_money_as_strings_items_refunds_and_disputes(
        client, store, order, django_capture_on_commit_callbacks):
    headers = _auth(store, "orders:read")
    detail = client.get(f"/api/v1/orders/{order.pk}", **headers).json()
    assert detail["total"] == "29.99" and detail["refunded_amount"] == "0.00"
    assert detail["items"][0]["product_name"] == "VIP Rank"
    assert detail["items"][0]["unit_price"] == "29.99"
    assert detail["refunds"] == [] and detail["disputes"] == []
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_dispute(payment_id=order.gateway_payment_id)
    disputes = client.get(f"/api/v1/orders/{order.pk}", **headers).json()["disputes"]
    assert len(disputes) == 1
    assert disputes[0]["amount"] == 2999 and disputes[0]["amount_decimal"] == "29.99"
    assert disputes[0]["status"] == "needs_response"
    assert disputes[0]["id"] == Dispute.objects.get().pk


def test_yen_totals_have_no_decimals(client, django_capture_on_commit_callbacks):
    shop = make_shop(slug="yen", currency="JPY")
    yen_order = paid_order(shop, make_product(shop, price="1500"),
                           capture=django_capture_on_commit_callbacks)
    detail = client.get(f"/api/v1/orders/{yen_order.pk}", **_auth(shop, "orders:read")).json()
    assert detail["total"] == "1500" and detail["items"][0]["unit_price"] == "1500"


def test_an_unknown_order_id_is_404_json(client, store):
    response = client.get("/api/v1/orders/999999", **_auth(store, "orders:read"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


# -- headless checkout ---------------------------------------------------------------------


def test_headless_checkout_creates_a_pending_order_with_a_payment_url(client, store, product):
    body = _checkout_body(product, billing_address={"line1": "1 Main St", "country": "US"})
    body["customer"].update(name="Alex Smith", country="US")
    response = _post(client, "/orders", body, _auth(store, "orders:write"))
    assert response.status_code == 201, response.content
    created = response.json()
    order = Order.objects.get()
    assert created["id"] == order.pk and created["order_number"] == order.order_number
    assert created["status"] == "pending" and created["total"] == "59.98"
    assert created["items"][0]["quantity"] == 2
    assert created["player_name"] == "Alex_1" and created["customer_name"] == "Alex Smith"
    assert created["checkout_url"].startswith("http://testserver/")
    assert "/pay/sandbox/cs_test_" in created["checkout_url"]
    assert order.gateway_session_id


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "ftp://example.com/", "https://", "/relative/path",
    "https://exa mple.com/", "https://example.com/\nx", "https://example.com:99999/",
    "https://example.com/" + "a" * 481, "",
])
def test_headless_checkout_refuses_a_non_http_url_with_422(client, store, product, url):
    headers = _auth(store, "orders:write")
    for field in ("success_url", "cancel_url"):
        response = _post(client, "/orders", _checkout_body(product, **{field: url}), headers,
                         key=f"url-{field}")
        assert response.status_code == 422, (field, url)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert any(field in d["loc"] for d in error["details"])
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_a_500_character_url_is_accepted(client, store, product):
    url = "https://example.com/" + "a" * 480
    response = _post(client, "/orders", _checkout_body(product, success_url=url),
                     _auth(store, "orders:write"))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("change", [
    {"items": []},
    {"items": [{"product_id": 1, "quantity": 0}]},
    {"items": [{"quantity": 1}]},
    {"customer": {"email": "alex@example.com"}},
])
def test_headless_checkout_validation_errors_are_422_json(client, store, product, change):
    response = _post(client, "/orders", _checkout_body(product, **change),
                     _auth(store, "orders:write"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_malformed_json_is_a_json_error(client, store):
    response = _post(client, "/orders", "{not json", _auth(store, "orders:write"))
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_headless_checkout_refuses_another_stores_product_and_writes_nothing(client, store,
                                                                           product):
    foreign = make_product(make_shop(slug="other"), name="Foreign")
    events = Event.objects.count()
    response = _post(client, "/orders", _checkout_body(
        product, items=[{"product_id": product.pk, "quantity": 1},
                        {"product_id": foreign.pk, "quantity": 1}]),
        _auth(store, "orders:write"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "product_unavailable"
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert Event.objects.count() == events


def test_headless_checkout_refuses_a_bad_player_name(client, store, product):
    body = _checkout_body(product)
    body["customer"]["player_name"] = "Steve; op Steve"
    response = _post(client, "/orders", body, _auth(store, "orders:write"))
    assert response.status_code == 400
    assert not Order.objects.exists() and not Customer.objects.exists()


# -- refunds -------------------------------------------------------------------------------


def test_refund_is_accepted_as_pending_listed_and_settled_by_the_worker(
        client, store, order, django_capture_on_commit_callbacks):
    headers = _auth(store, "orders:write")
    response = _post(client, f"/orders/{order.pk}/refunds", {"amount": "5.00",
                                                             "reason": "goodwill"}, headers)
    assert response.status_code == 202
    refund = response.json()
    assert refund["status"] == "pending" and refund["amount"] == "5.00"
    assert refund["reason"] == "goodwill" and refund["order_id"] == order.pk
    assert AuditLog.objects.filter(action="refund.requested").count() == 1
    listing = client.get(f"/api/v1/orders/{order.pk}/refunds", **headers).json()
    assert [r["id"] for r in listing["items"]] == [refund["id"]]
    with django_capture_on_commit_callbacks(execute=True):
        assert refund_execute(refund_id=refund["id"]) == "succeeded"
    detail = client.get(f"/api/v1/orders/{order.pk}", **headers).json()
    assert detail["refunds"][0]["status"] == "succeeded"
    assert detail["status"] == "partially_refunded" and detail["refunded_amount"] == "5.00"


def test_a_refund_without_an_amount_refunds_what_is_left(client, store, order):
    headers = _auth(store, "orders:write")
    _post(client, f"/orders/{order.pk}/refunds", {"amount": "10.00"}, headers)
    rest = _post(client, f"/orders/{order.pk}/refunds", {}, headers)
    assert rest.status_code == 202 and rest.json()["amount"] == "19.99"
    nothing = _post(client, f"/orders/{order.pk}/refunds", {}, headers)
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_left"
    assert Refund.objects.count() == 2


def test_refund_over_the_remaining_amount_is_refused_and_writes_nothing(client, store, order):
    response = _post(client, f"/orders/{order.pk}/refunds", {"amount": "30.00"},
                     _auth(store, "orders:write"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_too_large"
    assert not Refund.objects.exists()
    assert not AuditLog.objects.filter(action="refund.requested").exists()


@pytest.mark.parametrize("amount", ["abc", "-1.00", "0", "1.001"])
def test_a_malformed_refund_amount_is_422(client, store, order, amount):
    response = _post(client, f"/orders/{order.pk}/refunds", {"amount": amount},
                     _auth(store, "orders:write"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert not Refund.objects.exists()


def test_an_unpaid_order_cannot_be_refunded(client, store, product):
    pending = place_order(store, product)
    response = _post(client, f"/orders/{pending.pk}/refunds", {},
                     _auth(store, "orders:write"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_refundable"
    assert not Refund.objects.exists()


# -- Idempotency-Key -----------------------------------------------------------------------


def test_a_retried_refund_with_the_same_key_replays_without_refunding_twice(client, store,
                                                                            order):
    headers = _auth(store, "orders:write")
    path = f"/orders/{order.pk}/refunds"
    first = _post(client, path, {"amount": "5.00", "reason": "x"}, headers, "k-1")
    # The same request spelled differently (key order, whitespace) is still the same request.
    again = _post(client, path, '{ "reason": "x",  "amount": "5.00" }', headers, "k-1")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert Refund.objects.count() == 1
    assert AuditLog.objects.filter(action="refund.requested").count() == 1


def test_a_key_reused_for_another_request_is_422_and_does_nothing(client, store, product,
                                                                  order):
    headers = _auth(store, "orders:write")
    _post(client, f"/orders/{order.pk}/refunds", {"amount": "5.00"}, headers, "k-2")
    other_amount = _post(client, f"/orders/{order.pk}/refunds", {"amount": "6.00"}, headers,
                         "k-2")
    assert other_amount.status_code == 422
    assert other_amount.json()["error"]["code"] == "idempotency_key_reused"
    other_route = _post(client, "/orders", _checkout_body(product), headers, "k-2")
    assert other_route.status_code == 422
    assert Refund.objects.count() == 1 and Order.objects.count() == 1


def test_a_key_still_in_flight_is_409_and_does_nothing(client, store, order):
    headers = _auth(store, "orders:write")
    path = f"/orders/{order.pk}/refunds"
    _post(client, path, {"amount": "5.00"}, headers, "probe")
    probe = IdempotencyKey.objects.get(key="probe")
    # The first request with "busy" has claimed the key but not answered yet.
    IdempotencyKey.objects.create(store=store, key="busy", request_hash=probe.request_hash)
    busy = _post(client, path, {"amount": "5.00"}, headers, "busy")
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "idempotency_key_in_use"
    assert Refund.objects.count() == 1


def test_refusals_are_stored_and_replayed(client, store, order):
    headers = _auth(store, "orders:write")
    path = f"/orders/{order.pk}/refunds"
    first = _post(client, path, {"amount": "99.00"}, headers, "k-4")
    again = _post(client, path, {"amount": "99.00"}, headers, "k-4")
    assert first.status_code == again.status_code == 400
    assert first.json() == again.json()
    assert again.json()["error"]["code"] == "amount_too_large"
    assert again["Idempotent-Replayed"] == "true"
    assert not Refund.objects.exists()


def test_a_crash_frees_the_key_and_leaves_nothing_behind(store, order, monkeypatch):
    from shopkeep.orders import api as orders_api

    real = orders_api.refund_request

    def crash_after_writing(**kwargs):
        real(**kwargs)
        raise RuntimeError("worker died")

    monkeypatch.setattr(orders_api, "refund_request", crash_after_writing)
    client = Client(raise_request_exception=False)
    headers = _auth(store, "orders:write")
    path = f"/orders/{order.pk}/refunds"
    assert _post(client, path, {"amount": "5.00"}, headers, "k-5").status_code == 500
    assert not Refund.objects.exists() and not IdempotencyKey.objects.exists()
    monkeypatch.setattr(orders_api, "refund_request", real)
    retry = _post(client, path, {"amount": "5.00"}, headers, "k-5")
    assert retry.status_code == 202 and "Idempotent-Replayed" not in retry
    assert Refund.objects.count() == 1


@pytest.mark.parametrize("key", ["x" * 256, "caf\u00e9", "tab\there", "bell\x07"])
def test_a_malformed_idempotency_key_is_refused(client, store, order, key):
    response = _post(client, f"/orders/{order.pk}/refunds", {}, _auth(store, "orders:write"),
                     key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Refund.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["x" * 255, "a", "order 42 / refund #1"])
def test_any_printable_ascii_key_up_to_255_characters_works(client, store, order, key):
    response = _post(client, f"/orders/{order.pk}/refunds", {"amount": "1.00"},
                     _auth(store, "orders:write"), key)
    assert response.status_code == 202
    assert IdempotencyKey.objects.get().key == key


def test_keys_are_per_store(client, store, product, order, django_capture_on_commit_callbacks):
    other = make_shop(slug="other")
    other_order = paid_order(other, make_product(other),
                             capture=django_capture_on_commit_callbacks)
    mine = _post(client, f"/orders/{order.pk}/refunds", {"amount": "1.00"},
                 _auth(store, "orders:write"), "shared")
    theirs = _post(client, f"/orders/{other_order.pk}/refunds", {"amount": "1.00"},
                   _auth(other, "orders:write"), "shared")
    assert mine.status_code == theirs.status_code == 202
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["order_id"] == other_order.pk
    assert Refund.objects.count() == 2


def test_a_key_older_than_24_hours_no_longer_binds(client, store, order):
    headers = _auth(store, "orders:write")
    path = f"/orders/{order.pk}/refunds"
    _post(client, path, {"amount": "1.00"}, headers, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = _post(client, path, {"amount": "1.00"}, headers, "old")
    assert again.status_code == 202 and "Idempotent-Replayed" not in again
    assert Refund.objects.count() == 2
    assert IdempotencyKey.objects.get(key="old").created_at > timezone.now() - timedelta(hours=1)


def test_expired_keys_are_pruned_hourly(store):
    IdempotencyKey.objects.create(store=store, key="fresh", request_hash="a" * 64)
    IdempotencyKey.objects.create(store=store, key="stale", request_hash="a" * 64,
                                  created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_prune() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    job = registered_jobs()["orders.prune_idempotency_keys"]
    assert job.every == timedelta(hours=1)


def test_headless_checkout_with_a_key_creates_one_order(client, store, product):
    headers = _auth(store, "orders:write")
    first = _post(client, "/orders", _checkout_body(product), headers, "order-1")
    again = _post(client, "/orders", _checkout_body(product), headers, "order-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


# -- tenancy -------------------------------------------------------------------------------


def test_an_outsider_token_gets_404_for_this_stores_orders_and_changes_nothing(
        client, store, order):
    outsider = make_shop(slug="other")
    headers = _auth(outsider, "orders:read", "orders:write")
    before = Order.objects.values().get(pk=order.pk)
    for path in (f"/orders/{order.pk}", f"/orders/{order.pk}/refunds"):
        response = client.get(f"/api/v1{path}", **headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert _post(client, f"/orders/{order.pk}/refunds", {}, headers).status_code == 404
    assert _post(client, f"/orders/{order.pk}/refunds", {}, headers, "k").status_code == 404
    assert _total(client, headers) == 0
    assert _total(client, headers, customer_id=order.customer_id) == 0
    assert _total(client, headers, order_number=order.order_number) == 0
    assert not Refund.objects.exists() and not IdempotencyKey.objects.exists()
    assert Order.objects.values().get(pk=order.pk) == before


def test_openapi_builds_and_lists_the_commerce_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/orders": {"get", "post"},
        "/api/v1/orders/{order_id}": {"get"},
        "/api/v1/orders/{order_id}/refunds": {"get", "post"},
        "/api/v1/subscriptions": {"get"},
        "/api/v1/subscriptions/{subscription_id}": {"get"},
        "/api/v1/subscriptions/{subscription_id}/cancel": {"post"},
        "/api/v1/disputes": {"get"},
        "/api/v1/disputes/{dispute_id}": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path


def test_headless_checkout_records_the_buyers_widget_choice_off_by_default(
        client, store, product):
    headers = _auth(store, "orders:write")
    quiet = _post(client, "/orders", _checkout_body(product), headers, key="q").json()
    shown = _post(client, "/orders", _checkout_body(product, show_in_widgets=True), headers,
                  key="s").json()
    assert (quiet["show_in_widgets"], shown["show_in_widgets"]) == (False, True)
    assert list(Order.objects.order_by("pk").values_list("show_in_widgets", flat=True)) == [
        False, True]


@pytest.mark.parametrize("value", ["yes", "true", 1, None])
def test_headless_checkout_takes_only_a_json_boolean_for_the_widget_choice(
        client, store, product, value):
    response = _post(client, "/orders", _checkout_body(product, show_in_widgets=value),
                     _auth(store, "orders:write"))
    assert response.status_code == 422
    assert not Order.objects.exists()
