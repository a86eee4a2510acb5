"""The promotions routes of the store API: scopes, errors, tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopkeep.promotions.models import Coupon, GiftCard, GiftCardTransaction, Sale
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, make_shop
from tests.factories import make_token
from tests.promotions.helpers import make_coupon, make_gift_card, make_sale

pytestmark = pytest.mark.django_db
API = "/api/v1"


class Api:
    def __init__(self, client, raw: str) -> None:
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path: str):
        return self.client.get(API + path, **self.headers)

    def send(self, method: str, path: str, body=None):
        return getattr(self.client, method)(API + path, body, content_type="application/json",
                                            **self.headers)


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def writer(client, store):
    return Api(client, make_token(store, ["promotions:write"])[1])


@pytest.fixture
def reader(client, store):
    return Api(client, make_token(store, ["promotions:read"])[1])


@pytest.fixture
def outsider(client):
    return Api(client, make_token(make_shop(), ["promotions:write"])[1])


def _state():
    return (sorted(Coupon.objects.values_list("pk", "code", "uses_count", "is_active")),
            sorted(Sale.objects.values_list("pk", "name", "value")),
            sorted(GiftCard.objects.values_list("pk", "balance", "is_active")),
            GiftCardTransaction.objects.count(), AuditLog.objects.count())


def test_a_coupon_is_created_listed_changed_and_deleted(writer, store):
    product = make_product(store)
    body = {"code": "spring", "kind": "percent", "value": "15", "scope": "products",
            "product_ids": [product.pk], "max_uses": 100}
    created = writer.send("post", "/coupons", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["code"], data["value"], data["product_ids"], data["uses_count"]) == (
        "SPRING", "15.00", [product.pk], 0)
    listed = writer.get("/coupons").json()
    assert [c["code"] for c in listed["items"]] == ["SPRING"]
    changed = writer.send("put", f"/coupons/{data['id']}", {**body, "value": "20"})
    assert changed.json()["value"] == "20.00"
    assert writer.send("delete", f"/coupons/{data['id']}").status_code == 204
    assert not Coupon.objects.exists()


def test_hostile_coupon_input_gets_a_json_error_and_changes_nothing(writer, store):
    before = _state()
    for body, status, code in [
        ({"code": "OK1", "kind": "percent", "value": "500"}, 400, "invalid_value"),
        ({"code": "OK1", "kind": "percent", "value": "99999999999999999999"}, 422,
         "validation_error"),
        ({"code": "OK1", "kind": "percent", "value": "10", "max_uses": 10**30}, 422,
         "validation_error"),
        ({"code": "OK1", "kind": "percent", "value": "10", "product_ids": [10**6]}, 400,
         "unknown_product"),
        ({"code": "OK 1!", "kind": "percent", "value": "10"}, 400, "invalid_code"),
    ]:
        response = writer.send("post", "/coupons", body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["error"]["code"] == code
    assert _state() == before


def test_a_sale_is_created_and_shown(writer):
    body = {"name": "Weekend", "kind": "fixed", "value": "2.50", "all_products": True,
            "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-03T00:00:00Z"}
    response = writer.send("post", "/sales", body)
    assert response.status_code == 201, response.content
    assert response.json()["value"] == "2.50"
    assert writer.get(f"/sales/{response.json()['id']}").json()["name"] == "Weekend"


def test_a_gift_card_is_issued_once_with_its_code_then_only_its_last_four(writer, store):
    issued = writer.send("post", "/gift-cards", {"amount": "25.00", "note": "prize"})
    assert issued.status_code == 201
    data = issued.json()
    assert len(data["code"]) == 16 and data["balance"] == "25.00"
    detail = writer.get(f"/gift-cards/{data['id']}").json()
    assert "code" not in detail and detail["code_last4"] == data["code"][-4:]
    balance = writer.send("post", "/gift-cards/balance", {"code": data["code"].lower()})
    assert balance.json()["balance"] == "25.00"
    adjusted = writer.send("post", f"/gift-cards/{data['id']}/adjust",
                           {"amount": "5", "direction": "remove", "note": "correction"})
    assert adjusted.json()["balance_after"] == "20.00"
    ledger = writer.get(f"/gift-cards/{data['id']}/ledger").json()["items"]
    assert [(row["kind"], row["amount"]) for row in ledger] == [("adjust", "-5.00"),
                                                                 ("issue", "25.00")]
    too_much = writer.send("post", f"/gift-cards/{data['id']}/adjust",
                           {"amount": "500", "direction": "remove"})
    assert too_much.status_code == 409
    assert GiftCard.objects.get().balance == Decimal("20.00")


def test_a_read_token_cannot_write(reader):
    response = reader.send("post", "/gift-cards", {"amount": "25.00"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert not GiftCard.objects.exists()


def test_another_stores_token_sees_and_changes_nothing(outsider, store):
    coupon = make_coupon(store, "MINE")
    sale = make_sale(store)
    card = make_gift_card(store, "30.00")
    before = _state()
    assert outsider.get("/coupons").json()["items"] == []
    assert outsider.get("/sales").json()["items"] == []
    assert outsider.get("/gift-cards").json()["items"] == []
    for method, path, body in [
        ("get", f"/coupons/{coupon.pk}", None),
        ("put", f"/coupons/{coupon.pk}", {"code": "MINE", "kind": "percent", "value": "99"}),
        ("delete", f"/coupons/{coupon.pk}", None),
        ("get", f"/sales/{sale.pk}", None),
        ("delete", f"/sales/{sale.pk}", None),
        ("get", f"/gift-cards/{card.pk}", None),
        ("get", f"/gift-cards/{card.pk}/ledger", None),
        ("post", f"/gift-cards/{card.pk}/adjust", {"amount": "30", "direction": "remove"}),
        ("post", f"/gift-cards/{card.pk}/disable", None),
        ("post", "/gift-cards/balance", {"code": card.code}),
    ]:
        response = (outsider.get(path) if method == "get"
                    else outsider.send(method, path, body))
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
    missing = outsider.get("/coupons/999999")
    assert missing.status_code == 404 and missing.content == outsider.get(
        f"/coupons/{coupon.pk}").content
    assert _state() == before


def test_the_openapi_schema_lists_the_promotion_routes(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in ("/api/v1/coupons", "/api/v1/coupons/{coupon_id}", "/api/v1/sales",
                 "/api/v1/gift-cards", "/api/v1/gift-cards/{card_id}/ledger",
                 "/api/v1/gift-cards/balance"):
        assert path in paths


def test_headless_checkout_takes_a_coupon_and_a_gift_card(client, store):
    product = make_product(store, price="20.00")
    make_coupon(store, "API10")
    card = make_gift_card(store, "5.00")
    api = Api(client, make_token(store, ["orders:write"])[1])
    response = api.send("post", "/orders", {
        "items": [{"product_id": product.pk, "quantity": 1}],
        "customer": {"email": "a@example.com", "player_name": "Alex"},
        "coupon_code": "api10", "gift_card_code": card.code,
        "success_url": "https://example.com/ok", "cancel_url": "https://example.com/no"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["subtotal"], data["discount"], data["coupon_code"], data["total"],
            data["gift_card_amount"], data["amount_due"]) == (
        "20.00", "2.00", "API10", "18.00", "5.00", "13.00")
