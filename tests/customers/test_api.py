"""The customer routes of the store API: scopes, error shapes and tenant isolation."""

from __future__ import annotations

import pytest

from shopkeep.customers.models import Customer
from shopkeep.customers.services import CustomerInput, customer_get_or_create
from tests.customers.conftest import customer_state
from tests.factories import make_store, make_token

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def customer(store):
    return customer_get_or_create(store=store, data=CustomerInput(
        email="player@example.com", player_name="Steve", name="John Doe", country="US"))[0]


@pytest.fixture
def read_key(store):
    return make_token(store, ["customers:read"])[1]


@pytest.fixture
def write_key(store):
    return make_token(store, ["customers:write"])[1]


@pytest.fixture
def outsider_key():
    return make_token(make_store(), ["customers:write"])[1]


def _put(client, path: str, body: dict, key: str):
    return client.put(API + path, body, content_type="application/json", **_auth(key))


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return body["error"]


UPDATE = {"player_name": "Alex", "name": "Alex Doe", "country": "DE"}


def test_the_list_shows_this_stores_customers_and_searches(client, store, customer, read_key):
    customer_get_or_create(store=store, data=CustomerInput(email="other@example.com",
                                                    player_name="Notch"))
    customer_get_or_create(store=make_store(), data=CustomerInput(email="player@example.com",
                                                           player_name="Steve"))
    body = client.get(f"{API}/customers", **_auth(read_key)).json()
    assert sorted(c["email"] for c in body["items"]) == ["other@example.com",
                                                         "player@example.com"]
    assert body["meta"]["total"] == 2
    found = client.get(f"{API}/customers", {"search": "stev"}, **_auth(read_key)).json()
    assert [c["id"] for c in found["items"]] == [customer.pk]


def test_detail_shows_the_customer(client, customer, read_key):
    body = client.get(f"{API}/customers/{customer.pk}", **_auth(read_key)).json()
    assert (body["id"], body["email"], body["player_name"], body["country"]) == (
        customer.pk, "player@example.com", "Steve", "US")
    assert body["referral_code"] == customer.referral_code
    assert body["referred_by_customer_id"] is None


def test_detail_shows_the_referrer_id(client, store, customer, read_key):
    referred, _ = customer_get_or_create(store=store, data=CustomerInput(
        email="friend@example.com", player_name="Alex",
        referred_by_code=customer.referral_code))
    body = client.get(f"{API}/customers/{referred.pk}", **_auth(read_key)).json()
    assert body["referred_by_customer_id"] == customer.pk


def test_update_changes_the_customer(client, customer, write_key):
    response = _put(client, f"/customers/{customer.pk}", UPDATE, write_key)
    assert response.status_code == 200
    assert response.json()["player_name"] == "Alex"
    customer.refresh_from_db()
    assert (customer.player_name, customer.name, customer.country, customer.email) == (
        "Alex", "Alex Doe", "DE", "player@example.com")


def test_a_read_token_cannot_update(client, store, customer, read_key):
    before = customer_state(store)
    error = _error(_put(client, f"/customers/{customer.pk}", UPDATE, read_key), 403,
                   "insufficient_scope")
    assert "customers:write" in error["message"]
    assert customer_state(store) == before


def test_a_token_without_customer_scopes_cannot_read(client, store, customer):
    key = make_token(store, ["products:write"])[1]
    _error(client.get(f"{API}/customers", **_auth(key)), 403, "insufficient_scope")
    _error(client.get(f"{API}/customers/{customer.pk}", **_auth(key)), 403,
           "insufficient_scope")


def test_no_token_is_401(client, customer):
    _error(client.get(f"{API}/customers/{customer.pk}"), 401, "unauthenticated")


@pytest.mark.parametrize("player_name", ["Steve; op Steve", "Steve\nop Steve", "St"])
def test_a_hostile_player_name_is_400_and_changes_nothing(client, store, customer, write_key,
                                                          player_name):
    before = customer_state(store)
    error = _error(_put(client, f"/customers/{customer.pk}", UPDATE | {
        "player_name": player_name}, write_key), 400, "invalid_player")
    assert error["field"] == "player_name"
    assert customer_state(store) == before


@pytest.mark.parametrize("body", [{}, {"player_name": "x" * 33}, UPDATE | {"country": "USA"},
                                  UPDATE | {"steam_id": "7" * 18}])
def test_an_invalid_body_is_422(client, store, customer, write_key, body):
    before = customer_state(store)
    error = _error(_put(client, f"/customers/{customer.pk}", body, write_key), 422,
                   "validation_error")
    assert error["details"]
    assert customer_state(store) == before


def test_another_stores_token_gets_404_and_changes_nothing(client, store, customer,
                                                           outsider_key):
    before = customer_state(store)
    _error(client.get(f"{API}/customers/{customer.pk}", **_auth(outsider_key)), 404,
           "not_found")
    _error(_put(client, f"/customers/{customer.pk}", UPDATE, outsider_key), 404, "not_found")
    assert client.get(f"{API}/customers", **_auth(outsider_key)).json()["items"] == []
    assert customer_state(store) == before
    assert Customer.objects.get(pk=customer.pk).player_name == "Steve"


def test_a_missing_id_reads_exactly_like_a_foreign_one(client, customer, read_key,
                                                      outsider_key):
    foreign = client.get(f"{API}/customers/{customer.pk}", **_auth(outsider_key))
    missing = client.get(f"{API}/customers/999999", **_auth(read_key))
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
