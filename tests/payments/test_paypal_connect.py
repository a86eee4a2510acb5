"""Connecting PayPal: credentials checked with the fake PayPal on 127.0.0.1, the webhook made
when missing, the secret sealed, seed 000's hints as messages, and the store API."""

from __future__ import annotations

import pytest

from shopkeep.core.errors import ServiceError
from shopkeep.payments.models import PayPalConnection
from shopkeep.payments.paypal_connect import paypal_connect, webhook_url
from shopkeep.payments.paypal_events import EVENTS
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from tests.commerce import make_shop
from tests.factories import make_token, owner_of
from tests.payments.conftest import PAYPAL_CLIENT_ID, PAYPAL_SECRET, connect_paypal

pytestmark = pytest.mark.django_db


def _connect(store, **kwargs):
    args = {"client_id": PAYPAL_CLIENT_ID, "client_secret": PAYPAL_SECRET, "mode": "sandbox",
            **kwargs}
    return paypal_connect(store=store, actor=Actor.for_user(owner_of(store)), **args)


def test_connect_creates_the_webhook_with_every_event_and_seals_the_secret(fake_paypal):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    connection = _connect(store, client_id=f"  {PAYPAL_CLIENT_ID}\n")
    hooks = fake_paypal.apps[PAYPAL_CLIENT_ID]["webhooks"]
    assert [h["url"] for h in hooks] == [webhook_url(store)]
    assert {t["name"] for t in hooks[0]["event_types"]} == set(EVENTS)
    assert connection.webhook_id == hooks[0]["id"] and connection.webhook_created
    assert connection.client_id == PAYPAL_CLIENT_ID
    assert PAYPAL_SECRET not in connection.client_secret_sealed
    assert connection.client_secret_last4 == PAYPAL_SECRET[-4:]
    audit = AuditLog.objects.get(action="payments.paypal_connected")
    assert PAYPAL_SECRET not in str(audit.details)


def test_an_existing_webhook_is_reused_and_given_the_missing_event_types(fake_paypal):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    hook = fake_paypal.add_webhook(PAYPAL_CLIENT_ID, webhook_url(store),
                                   ["PAYMENT.CAPTURE.COMPLETED"])
    connection = _connect(store)
    assert connection.webhook_id == hook["id"] and not connection.webhook_created
    assert len(fake_paypal.apps[PAYPAL_CLIENT_ID]["webhooks"]) == 1
    assert {t["name"] for t in hook["event_types"]} == set(EVENTS)


@pytest.mark.parametrize(("kwargs", "code", "words"), [
    ({"client_secret": "wrong-secret-0000000000000000"}, "paypal_credentials_refused",
     "Sandbox/Live switch"),
    ({"client_id": "Abc def0000000000000000000000"}, "invalid_credentials", "space"),
    ({"client_secret": PAYPAL_CLIENT_ID}, "invalid_credentials", "both fields"),
    ({"client_id": "short"}, "invalid_credentials", "does not look like"),
    ({"mode": "staging"}, "invalid_mode", "sandbox or live"),
])
def test_bad_credentials_are_refused_with_what_to_do(fake_paypal, kwargs, code, words):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    with pytest.raises(ServiceError) as err:
        _connect(store, **kwargs)
    assert err.value.code == code and words in err.value.message
    assert not PayPalConnection.objects.exists()
    assert fake_paypal.apps[PAYPAL_CLIENT_ID]["webhooks"] == []


def test_sandbox_credentials_on_a_live_store_are_refused_before_paypal_is_asked(fake_paypal):
    store = make_shop()
    store.test_mode = False
    store.save(update_fields=["test_mode"])
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    with pytest.raises(ServiceError) as err:
        _connect(store)
    assert err.value.code == "sandbox_on_live_store"
    assert fake_paypal.requests == [] and not PayPalConnection.objects.exists()


def test_an_account_paypal_has_not_verified_is_refused(fake_paypal):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET, verified=False)
    with pytest.raises(ServiceError) as err:
        _connect(store)
    assert err.value.code == "paypal_unverified"
    assert err.value.message.startswith("Unable to verify account:")
    assert "fully verified" in err.value.message
    assert not PayPalConnection.objects.exists()


def test_a_webhook_url_paypal_refuses_says_how_to_fix_it(fake_paypal, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    with pytest.raises(ServiceError) as err:
        _connect(store)
    assert err.value.code == "webhook_missing" and "https" in err.value.message
    assert not PayPalConnection.objects.exists()


def test_a_full_webhook_list_is_reported(fake_paypal):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    for n in range(10):
        fake_paypal.add_webhook(PAYPAL_CLIENT_ID, f"https://other{n}.example.com/hook", [])
    with pytest.raises(ServiceError) as err:
        _connect(store)
    assert "10 webhooks per app" in err.value.message


# -- the store API ------------------------------------------------------------------------------

def test_api_connects_shows_hints_only_and_disconnects(client, fake_paypal):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    _, token = make_token(store, scopes=["store:read", "store:write"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {"client_id": PAYPAL_CLIENT_ID, "client_secret": PAYPAL_SECRET, "mode": "sandbox"}
    response = client.put("/api/v1/payments/paypal", body, content_type="application/json",
                          **auth)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["connected"] and data["mode"] == "sandbox"
    assert data["client_secret_hint"] == f"…{PAYPAL_SECRET[-4:]}"
    assert PAYPAL_SECRET not in response.content.decode()
    assert data["checkout_gateways"] == ["paypal"]
    assert client.get("/api/v1/payments/paypal", **auth).json()["webhook_id"]
    assert client.delete("/api/v1/payments/paypal", **auth).json()["connected"] is False
    assert not PayPalConnection.objects.exists()


def test_api_refusal_is_the_json_error_shape(client, fake_paypal):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    _, token = make_token(store, scopes=["store:read", "store:write"])
    response = client.put("/api/v1/payments/paypal", {
        "client_id": PAYPAL_CLIENT_ID, "client_secret": "nope-nope-nope-nope-nope-0000",
        "mode": "sandbox"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "paypal_credentials_refused"


def test_another_stores_token_neither_sees_nor_changes_the_connection(client, fake_paypal):
    store = make_shop()
    connect_paypal(store, fake_paypal)
    outsider = make_shop()
    _, token = make_token(outsider, scopes=["store:read", "store:write"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/v1/payments/paypal", **auth).json()["connected"] is False
    response = client.delete("/api/v1/payments/paypal", **auth)
    assert response.status_code == 409
    assert PayPalConnection.objects.filter(store=store).exists()


def test_a_read_only_token_cannot_connect(client, fake_paypal):
    store = make_shop()
    fake_paypal.add_app(PAYPAL_CLIENT_ID, PAYPAL_SECRET)
    _, token = make_token(store, scopes=["store:read"])
    response = client.put("/api/v1/payments/paypal", {
        "client_id": PAYPAL_CLIENT_ID, "client_secret": PAYPAL_SECRET, "mode": "sandbox"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert not PayPalConnection.objects.exists()
