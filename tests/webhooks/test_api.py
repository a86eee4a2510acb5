"""The webhook routes of the store API: CRUD, secrets, tests, log, redelivery, scopes, tenancy."""

from __future__ import annotations

import pytest
from django.db import transaction

from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint
from shopkeep.webhooks.services import endpoint_create
from tests.factories import make_store, make_token
from tests.webhooks.conftest import dispatch, validate_payload

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def write_key(store):
    return make_token(store, ["webhooks:write"])[1]


@pytest.fixture
def read_key(store):
    return make_token(store, ["webhooks:read"])[1]


@pytest.fixture
def endpoint(store, receiver):
    return endpoint_create(store=store, actor=Actor.system(), url=receiver.url(),
                           events=["product.deleted"])


@pytest.fixture
def delivery(store, endpoint):
    with transaction.atomic():
        emit(store=store, event_type="product.deleted",
             data={"product_id": 1, "name": "x", "slug": "x",
                   "deleted_at": "2025-01-22T09:00:00.000000Z"})
    dispatch()
    return WebhookDelivery.objects.get()


def _state() -> tuple:
    return (sorted(WebhookEndpoint.objects.values_list(
        "pk", "url", "events", "all_events", "format", "is_active", "secret", "description")),
        sorted(WebhookDelivery.objects.values_list("pk", "status", "next_attempt_at")),
        AuditLog.objects.count())


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return body["error"]


def test_create_returns_the_secret_once_and_the_list_shows_the_endpoint(client, store,
                                                                        write_key, receiver):
    response = client.post(f"{API}/webhooks", {
        "url": receiver.url(), "events": ["order.received", "order.created"],
        "description": "Bot", "format": "json"}, content_type="application/json",
        **_auth(write_key))
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(store=store)
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert body["events"] == ["order.received", "order.created"]
    listed = client.get(f"{API}/webhooks", **_auth(write_key)).json()
    assert [e["id"] for e in listed["items"]] == [endpoint.pk]
    assert "secret" not in listed["items"][0]
    assert "secret" not in client.get(f"{API}/webhooks/{endpoint.pk}", **_auth(write_key)).json()
    assert AuditLog.objects.filter(action="webhook.created").count() == 1


def test_patch_changes_only_what_is_given(client, endpoint, write_key):
    response = client.patch(f"{API}/webhooks/{endpoint.pk}", {"description": "Renamed",
                                                              "is_active": False},
                            content_type="application/json", **_auth(write_key))
    assert response.status_code == 200, response.content
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.is_active, endpoint.disabled_reason) == (
        "Renamed", False, "manual")
    assert endpoint.events == ["product.deleted"]


def test_delete_removes_the_endpoint_and_its_log(client, endpoint, delivery, write_key):
    response = client.delete(f"{API}/webhooks/{endpoint.pk}", **_auth(write_key))
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_secret_reveal_and_rotation(client, endpoint, write_key):
    shown = client.get(f"{API}/webhooks/{endpoint.pk}/secret", **_auth(write_key)).json()
    assert shown["secret"] == endpoint.secret
    rotated = client.post(f"{API}/webhooks/{endpoint.pk}/rotate-secret",
                          **_auth(write_key)).json()
    endpoint.refresh_from_db()
    assert rotated["secret"] == endpoint.secret != shown["secret"]
    assert endpoint.previous_secret == shown["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    assert AuditLog.objects.filter(action="webhook.secret_revealed").count() == 1


def test_a_test_send_is_queued_then_sent_with_test_true(client, endpoint, write_key,
                                                        receiver):
    response = client.post(f"{API}/webhooks/{endpoint.pk}/test",
                           {"event_type": "delivery.failed"},
                           content_type="application/json", **_auth(write_key))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["test"] is True and body["status"] == "pending"
    assert receiver.requests == []
    dispatch()
    (request,) = receiver.requests
    payload = validate_payload(request.body)
    assert payload["test"] is True and payload["id"] == body["id"]
    log = client.get(f"{API}/webhooks/{endpoint.pk}/deliveries", **_auth(write_key)).json()
    assert [(d["id"], d["status"], d["test"]) for d in log["items"]] == [
        (body["id"], "succeeded", True)]


def test_the_delivery_log_filters_and_shows_attempts(client, store, endpoint, delivery,
                                                     read_key):
    url = f"{API}/webhooks/{endpoint.pk}/deliveries"
    assert client.get(url, {"status": "succeeded"}, **_auth(read_key)).json()["meta"][
        "total"] == 1
    assert client.get(url, {"status": "failed"}, **_auth(read_key)).json()["meta"][
        "total"] == 0
    assert client.get(url, {"event_type": "order.received"}, **_auth(read_key)).json()[
        "meta"]["total"] == 0
    assert client.get(url, {"since": "2999-01-01T00:00:00Z"}, **_auth(read_key)).json()[
        "meta"]["total"] == 0
    detail = client.get(f"{url}/{delivery.public_id}", **_auth(read_key)).json()
    (attempt,) = detail["attempts"]
    assert attempt["response_status"] == 200 and attempt["succeeded"]
    assert attempt["request_headers"]["X-Webhook-ID"] == delivery.public_id
    assert detail["body"] == delivery.body


def test_redelivery_of_one_and_of_failed_since(client, endpoint, delivery, write_key):
    base = f"{API}/webhooks/{endpoint.pk}"
    response = client.post(f"{base}/deliveries/{delivery.public_id}/redeliver",
                           **_auth(write_key))
    assert response.status_code == 202 and response.json()["status"] == "pending"
    again = client.post(f"{base}/deliveries/{delivery.public_id}/redeliver",
                        **_auth(write_key))
    _error(again, 409, "already_pending")
    WebhookDelivery.objects.update(status="failed")
    response = client.post(f"{base}/redeliver-failed", {"since": "2000-01-01T00:00:00Z"},
                           content_type="application/json", **_auth(write_key))
    assert response.json() == {"redelivered": 1}


def test_event_types_lists_current_and_legacy_names(client, read_key):
    body = client.get(f"{API}/webhooks/event-types", **_auth(read_key)).json()
    assert len(body) == 21
    assert {"name": "order.created", "description": "Legacy: use order.received",
            "legacy_for": "order.received"} in body


def test_a_read_token_cannot_write(client, endpoint, read_key):
    before = _state()
    _error(client.post(f"{API}/webhooks/{endpoint.pk}/rotate-secret", **_auth(read_key)),
           403, "insufficient_scope")
    _error(client.get(f"{API}/webhooks/{endpoint.pk}/secret", **_auth(read_key)), 403,
           "insufficient_scope")
    assert _state() == before


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"url": "https://127.0.0.1/x", "events": ["order.received"]}, 400, "invalid_url"),
    ({"url": "ftp://example.com/x", "events": ["order.received"]}, 400, "invalid_url"),
    ({"url": "https://93.184.215.14/x", "events": ["order.nope"]}, 400, "invalid_events"),
    ({"url": "https://93.184.215.14/x", "events": []}, 400, "invalid_events"),
    ({"url": "https://93.184.215.14/x", "events": ["order.received"], "format": "xml"}, 400,
     "invalid_format"),
    ({"url": "https://93.184.215.14/x", "events": "order.received"}, 422, "validation_error"),
    ({"url": "https://93.184.215.14/x", "events": ["order.received"],
      "description": "x" * 500}, 422, "validation_error"),
    ({"url": "https://93.184.215.14/x", "events": ["order.received"],
      "description": "bad\x00"}, 400, "invalid_description"),
])
def test_hostile_input_is_refused_and_changes_nothing(client, write_key, settings, body,
                                                      status, code):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    before = _state()
    response = client.post(f"{API}/webhooks", body, content_type="application/json",
                           **_auth(write_key))
    _error(response, status, code)
    assert _state() == before


def test_a_test_send_of_an_unknown_event_is_refused(client, endpoint, write_key):
    before = _state()
    _error(client.post(f"{API}/webhooks/{endpoint.pk}/test", {"event_type": "nope"},
                       content_type="application/json", **_auth(write_key)),
           400, "invalid_event_type")
    assert _state() == before


ROUTES = [
    ("get", "/webhooks/{e}", None), ("patch", "/webhooks/{e}", {"description": "x"}),
    ("delete", "/webhooks/{e}", None), ("get", "/webhooks/{e}/secret", None),
    ("post", "/webhooks/{e}/rotate-secret", None),
    ("post", "/webhooks/{e}/test", {"event_type": "order.received"}),
    ("get", "/webhooks/{e}/deliveries", None), ("get", "/webhooks/{e}/deliveries/{d}", None),
    ("post", "/webhooks/{e}/deliveries/{d}/redeliver", None),
    ("post", "/webhooks/{e}/redeliver-failed", {"since": "2000-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_an_outsider_gets_404_and_changes_nothing(client, endpoint, delivery, method, path,
                                                  body):
    outsider = make_token(make_store(), ["webhooks:write"])[1]
    before = _state()
    url = API + path.format(e=endpoint.pk, d=delivery.public_id)
    kwargs = {"content_type": "application/json"} if body is not None else {}
    response = getattr(client, method)(url, body, **kwargs, **_auth(outsider)) if body \
        else getattr(client, method)(url, **_auth(outsider))
    _error(response, 404, "not_found")
    assert _state() == before
    assert client.get(f"{API}/webhooks", **_auth(outsider)).json()["items"] == []


def test_a_delivery_of_another_endpoint_is_404_under_this_one(client, store, endpoint,
                                                              delivery, write_key, receiver):
    other = endpoint_create(store=store, actor=Actor.system(), url=receiver.url("/o"),
                            events=["order.received"])
    _error(client.get(f"{API}/webhooks/{other.pk}/deliveries/{delivery.public_id}",
                      **_auth(write_key)), 404, "not_found")


def test_the_openapi_schema_lists_the_webhook_routes(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in ("/api/v1/webhooks", "/api/v1/webhooks/{endpoint_id}/test",
                 "/api/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"):
        assert path in paths
