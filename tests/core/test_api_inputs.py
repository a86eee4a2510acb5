"""The API refuses the numbers the forms refuse: "1_000", digits of other scripts, true."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from pydantic import TypeAdapter, ValidationError

from shopkeep.catalog.models import Product
from shopkeep.core.api_inputs import INT64_MAX, INT64_MIN, Int64, PlainDecimal
from shopkeep.orders.models import Order, Refund
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import make_token

INT = TypeAdapter(Int64)
DECIMAL = TypeAdapter(PlainDecimal)


@pytest.mark.parametrize("value", [True, False, "1_000", "\u0661\u0662", "\u0663",
                                   "\uff11\uff12", "0x10", "1e3", "", " ", "5.5",
                                   INT64_MAX + 1, INT64_MIN - 1, 2**70])
def test_int64_refuses_what_the_forms_refuse(value):
    with pytest.raises(ValidationError):
        INT.validate_python(value)


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("12", 12), (" 7 ", 7), ("-3", -3),
                                                 (INT64_MAX, INT64_MAX), (INT64_MIN, INT64_MIN)])
def test_int64_accepts_plain_integers(value, expected):
    assert INT.validate_python(value) == expected


@pytest.mark.parametrize("value", [True, "1_000", "\u0661\u0660", "1e3", "NaN", "Infinity",
                                   "1.", ".5", "1,00", "\u06f1\u06f2.\u06f5"])
def test_plain_decimal_refuses_what_the_forms_refuse(value):
    with pytest.raises(ValidationError):
        DECIMAL.validate_python(value)


@pytest.mark.parametrize(("value", "expected"), [("29.99", Decimal("29.99")), ("10", 10),
                                                 (10, 10), (" 1.50 ", Decimal("1.50"))])
def test_plain_decimal_accepts_plain_decimals(value, expected):
    assert DECIMAL.validate_python(value) == expected


@pytest.fixture
def shop(db):
    store = make_shop(slug="shop")
    _, raw = make_token(store, ["orders:write", "products:write"])
    return store, make_product(store), {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _post(path: str, body: dict, auth: dict):
    return Client().post(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                         **auth)


@pytest.mark.parametrize("quantity", [True, "1_0", "\u0662", "2.0", 2**70])
def test_checkout_refuses_an_odd_quantity_and_creates_nothing(shop, quantity):
    store, product, auth = shop
    response = _post("/orders", {
        "items": [{"product_id": product.pk, "quantity": quantity}],
        "customer": {"email": "p@example.com", "player_name": "Steve"},
        "success_url": "https://example.com/ok", "cancel_url": "https://example.com/"}, auth)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert any("quantity" in d["loc"] for d in response.json()["error"]["details"])
    assert not Order.objects.filter(store=store).exists()


@pytest.mark.parametrize("price", ["1_000", "\u0661\u0660", "1e3", True])
def test_product_create_refuses_an_odd_price(shop, price):
    store, _product, auth = shop
    before = Product.objects.filter(store=store).count()
    response = _post("/products", {"name": "Gold", "price": price, "type": "digital"}, auth)
    assert response.status_code == 422
    assert Product.objects.filter(store=store).count() == before


@pytest.mark.parametrize("amount", ["1_0", "\u0661", "1e1", True])
def test_refund_refuses_an_odd_amount(shop, amount, django_capture_on_commit_callbacks):
    store, product, auth = shop
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    response = _post(f"/orders/{order.pk}/refunds", {"amount": amount}, auth)
    assert response.status_code == 422
    assert not Refund.objects.filter(order=order).exists()


def test_json_over_the_django_limit_is_413_json_and_creates_nothing(shop):
    store, product, auth = shop
    body = json.dumps({"items": [{"product_id": product.pk, "quantity": 1}],
                       "customer": {"email": "p@example.com", "player_name": "Steve",
                                    "name": "x" * (1024 * 1024)},
                       "success_url": "https://example.com/ok", "cancel_url": "https://x.io/"})
    response = Client(raise_request_exception=False).post(
        "/api/v1/orders", body, content_type="application/json", **auth)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["error"]["code"] == "body_too_large"
    assert not Order.objects.filter(store=store).exists()


def test_a_form_over_the_django_limit_is_413_json_not_a_400_page(db):
    response = Client(raise_request_exception=False).post(
        "/accounts/login/", {"login": "a@example.com", "password": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
