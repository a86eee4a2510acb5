"""The store API at /api/v1/: bearer tokens with scopes, one JSON error shape, pagination."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shopkeep.stores.models import ApiToken, AuditLog, Store
from shopkeep.stores.services import token_authenticate
from tests.factories import make_store, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store(slug="shop", name="Block Party")


@pytest.fixture
def api():
    return Client()


def _auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _post(api: Client, path: str, body: object, raw: str):
    payload = body if isinstance(body, str) else json.dumps(body)
    return api.post(path, payload, content_type="application/json", **_auth(raw))


def _tokens_state() -> list[tuple]:
    return sorted(ApiToken.objects.values_list("pk", "revoked_at", "scopes", "name"))


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# -- authentication -------------------------------------------------------------------------


def test_store_detail_answers_the_tokens_own_store(api, store):
    make_store(slug="other")
    _, raw = make_token(store, ["store:read"])
    response = api.get("/api/v1/store", **_auth(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == store.public_id
    assert (body["name"], body["slug"], body["currency"]) == ("Block Party", "shop", "USD")
    assert (body["plan"], body["status"], body["test_mode"]) == ("free", "active", True)
    assert "pk" not in body and "key_hash" not in json.dumps(body)


@pytest.mark.parametrize("headers", [
    {},
    {"HTTP_AUTHORIZATION": "Bearer"},
    {"HTTP_AUTHORIZATION": "Bearer sk_not-a-real-key"},
    {"HTTP_AUTHORIZATION": "Bearer garbage"},
    {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    {"HTTP_AUTHORIZATION": "sk_missing_the_scheme"},
], ids=["missing", "empty", "unknown", "garbage", "basic", "no-scheme"])
def test_a_missing_or_garbage_token_is_401_json(api, store, headers):
    make_token(store, ["store:read"])
    response = api.get("/api/v1/store", **headers)
    _assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_is_401_with_the_same_message_as_an_unknown_one(api, store):
    token, raw = make_token(store, ["store:read"])
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    revoked = _assert_error(api.get("/api/v1/store", **_auth(raw)), 401, "unauthenticated")
    unknown = _assert_error(api.get("/api/v1/store", **_auth("sk_" + "x" * 43)), 401,
                            "unauthenticated")
    assert revoked == unknown


def test_an_expired_token_is_401(api, store):
    token, raw = make_token(store, ["store:read"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _assert_error(api.get("/api/v1/store", **_auth(raw)), 401, "unauthenticated")


def test_a_closed_stores_token_is_401(api, store):
    _, raw = make_token(store, ["store:read"])
    Store.objects.filter(pk=store.pk).update(status=Store.Status.CLOSED)
    _assert_error(api.get("/api/v1/store", **_auth(raw)), 401, "unauthenticated")


def test_a_token_without_the_scope_is_403_naming_the_scope(api, store):
    _, raw = make_token(store, ["tokens:read"])
    error = _assert_error(api.get("/api/v1/store", **_auth(raw)), 403, "insufficient_scope")
    assert "store:read" in error["message"]


def test_a_write_scope_implies_the_read_scope_of_the_same_resource(api, store):
    _, raw = make_token(store, ["store:write"])
    assert api.get("/api/v1/store", **_auth(raw)).status_code == 200


def test_a_read_scope_does_not_imply_write(api, store):
    _, raw = make_token(store, ["tokens:read"])
    before = _tokens_state()
    response = _post(api, "/api/v1/tokens", {"name": "x", "scopes": ["tokens:read"]}, raw)
    error = _assert_error(response, 403, "insufficient_scope")
    assert "tokens:write" in error["message"]
    assert _tokens_state() == before


def test_a_request_touches_last_used_at(api, store):
    token, raw = make_token(store, ["store:read"])
    assert token.last_used_at is None
    before = timezone.now()
    assert api.get("/api/v1/store", **_auth(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert before <= token.last_used_at <= timezone.now()


def test_a_refused_key_touches_nothing(api, store):
    token, raw = make_token(store, ["tokens:read"])
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    api.get("/api/v1/store", **_auth(raw))
    token.refresh_from_db()
    assert token.last_used_at is None


# -- GET /tokens ----------------------------------------------------------------------------


def test_token_list_paginates_in_the_items_meta_shape(api, store):
    _, raw = make_token(store, ["tokens:read"], name="reader")
    for index in range(4):
        make_token(store, ["store:read"], name=f"t{index}")
    make_token(make_store(), ["store:read"], name="foreign")

    first = api.get("/api/v1/tokens?per_page=2", **_auth(raw))
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"items", "meta"}
    assert body["meta"] == {"page": 1, "per_page": 2, "total": 5, "has_more": True}
    assert len(body["items"]) == 2

    last = api.get("/api/v1/tokens?per_page=2&page=3", **_auth(raw)).json()
    assert last["meta"] == {"page": 3, "per_page": 2, "total": 5, "has_more": False}
    assert len(last["items"]) == 1

    everything = api.get("/api/v1/tokens", **_auth(raw)).json()
    assert everything["meta"] == {"page": 1, "per_page": 50, "total": 5, "has_more": False}
    names = {item["name"] for item in everything["items"]}
    assert names == {"reader", "t0", "t1", "t2", "t3"}


def test_token_list_never_shows_a_key_or_its_digest(api, store):
    token, raw = make_token(store, ["tokens:read"])
    body = api.get("/api/v1/tokens", **_auth(raw)).json()
    item = body["items"][0]
    assert set(item) == {"id", "name", "prefix", "scopes", "created_at", "last_used_at",
                         "expires_at", "revoked_at"}
    assert item["prefix"] == token.prefix
    assert raw not in json.dumps(body)
    assert token.key_hash not in json.dumps(body)


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=0", "page=abc"])
def test_bad_pagination_parameters_are_422(api, store, query):
    _, raw = make_token(store, ["tokens:read"])
    error = _assert_error(api.get(f"/api/v1/tokens?{query}", **_auth(raw)), 422,
                          "validation_error")
    assert error["details"]


# -- POST /tokens ---------------------------------------------------------------------------


def test_a_token_creates_a_narrower_token_shown_once(api, store):
    parent, raw = make_token(store, ["tokens:write", "store:read"])
    response = _post(api, "/api/v1/tokens", {"name": "deploy", "scopes": ["store:read"]}, raw)
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("sk_") and body["token"].startswith(body["prefix"])
    child = ApiToken.objects.get(pk=body["id"])
    assert (child.store, child.name, child.scopes) == (store, "deploy", ["store:read"])
    assert token_authenticate(body["token"]).pk == child.pk
    log = AuditLog.objects.get(action="token.created", object_id=str(child.pk))
    assert log.actor_token == parent
    listed = api.get("/api/v1/tokens", **_auth(body["token"]))
    assert listed.status_code == 403  # the child holds store:read only


def test_the_new_key_is_never_listed_afterwards(api, store):
    _, raw = make_token(store, ["tokens:write"])
    created = _post(api, "/api/v1/tokens", {"name": "n", "scopes": ["tokens:read"]}, raw).json()
    listing = api.get("/api/v1/tokens", **_auth(raw))
    assert listing.status_code == 200
    assert created["token"] not in listing.content.decode()
    assert all("token" not in item for item in listing.json()["items"])


def test_a_write_scope_may_mint_the_read_scope_it_implies_but_not_the_reverse(api, store):
    _, writer = make_token(store, ["tokens:write"])
    response = _post(api, "/api/v1/tokens", {"name": "r", "scopes": ["tokens:read"]}, writer)
    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).scopes == ["tokens:read"]

    _, reader_and_writer = make_token(store, ["tokens:write", "store:read"])
    before = _tokens_state()
    response = _post(api, "/api/v1/tokens", {"name": "w", "scopes": ["store:write"]},
                     reader_and_writer)
    _assert_error(response, 403, "permission_denied")
    assert _tokens_state() == before


def test_a_token_cannot_create_a_token_with_wider_scopes(api, store):
    _, raw = make_token(store, ["tokens:write", "store:read"])
    before = _tokens_state()
    audit_before = AuditLog.objects.count()
    response = _post(api, "/api/v1/tokens",
                     {"name": "escalate", "scopes": ["store:read", "orders:write"]}, raw)
    error = _assert_error(response, 403, "permission_denied")
    assert "orders:write" in error["message"]
    assert _tokens_state() == before
    assert AuditLog.objects.count() == audit_before


def test_an_unknown_scope_is_400_naming_the_field(api, store):
    _, raw = make_token(store, ["tokens:write"])
    before = _tokens_state()
    response = _post(api, "/api/v1/tokens", {"name": "x", "scopes": ["root:all"]}, raw)
    error = _assert_error(response, 400, "invalid_scope")
    assert error["field"] == "scopes"
    assert _tokens_state() == before


@pytest.mark.parametrize("body", [
    {"scopes": ["tokens:read"]},
    {"name": "x"},
    {"name": "", "scopes": ["tokens:read"]},
    {"name": "n" * 101, "scopes": ["tokens:read"]},
    {"name": "x", "scopes": []},
    {"name": "x", "scopes": "tokens:read"},
    {"name": "x", "scopes": ["tokens:read"], "expires_at": "next tuesday"},
    [],
], ids=["no-name", "no-scopes", "empty-name", "long-name", "empty-scopes", "scopes-string",
        "bad-date", "array"])
def test_a_bad_body_is_422_and_creates_nothing(api, store, body):
    _, raw = make_token(store, ["tokens:write"])
    before = _tokens_state()
    audit_before = AuditLog.objects.count()
    error = _assert_error(_post(api, "/api/v1/tokens", body, raw), 422, "validation_error")
    assert isinstance(error["details"], list) and error["details"]
    assert all(set(detail) == {"loc", "message"} for detail in error["details"])
    assert _tokens_state() == before
    assert AuditLog.objects.count() == audit_before


def test_a_body_that_is_not_json_is_a_4xx_json_error_and_creates_nothing(api, store):
    _, raw = make_token(store, ["tokens:write"])
    before = _tokens_state()
    response = _post(api, "/api/v1/tokens", "{not json", raw)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"]
    assert _tokens_state() == before


def test_an_expiry_in_the_past_is_refused(api, store):
    _, raw = make_token(store, ["tokens:write"])
    before = _tokens_state()
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = _post(api, "/api/v1/tokens",
                     {"name": "x", "scopes": ["tokens:write"], "expires_at": past}, raw)
    assert _assert_error(response, 400, "invalid_expiry")["field"] == "expires_at"
    assert _tokens_state() == before


# -- DELETE /tokens/{id} --------------------------------------------------------------------


def test_a_token_revokes_another_token_of_its_store(api, store):
    parent, raw = make_token(store, ["tokens:write"])
    victim, victim_raw = make_token(store, ["store:read"])
    response = api.delete(f"/api/v1/tokens/{victim.pk}", **_auth(raw))
    assert response.status_code == 200
    assert response.json()["id"] == victim.pk
    assert response.json()["revoked_at"] is not None
    victim.refresh_from_db()
    assert victim.revoked_at is not None
    _assert_error(api.get("/api/v1/store", **_auth(victim_raw)), 401, "unauthenticated")
    log = AuditLog.objects.get(action="token.revoked")
    assert (log.actor_token, log.object_id) == (parent, str(victim.pk))


def test_revoking_twice_answers_200_and_writes_one_audit_row(api, store):
    _, raw = make_token(store, ["tokens:write"])
    victim, _ = make_token(store, ["store:read"])
    first = api.delete(f"/api/v1/tokens/{victim.pk}", **_auth(raw)).json()
    second = api.delete(f"/api/v1/tokens/{victim.pk}", **_auth(raw))
    assert second.status_code == 200
    assert second.json()["revoked_at"] == first["revoked_at"]
    assert AuditLog.objects.filter(action="token.revoked").count() == 1


def test_an_outsiders_token_gets_404_for_this_stores_token_and_revokes_nothing(api, store):
    victim, victim_raw = make_token(store, ["store:read"])
    _, outsider_raw = make_token(make_store(), ["tokens:write", "tokens:read"])
    before = _tokens_state()
    audit_before = AuditLog.objects.count()

    foreign = api.delete(f"/api/v1/tokens/{victim.pk}", **_auth(outsider_raw))
    missing = api.delete("/api/v1/tokens/999999", **_auth(outsider_raw))

    assert _assert_error(foreign, 404, "not_found") == _assert_error(missing, 404, "not_found")
    assert _tokens_state() == before
    assert AuditLog.objects.count() == audit_before
    assert token_authenticate(victim_raw) is not None


def test_delete_needs_tokens_write(api, store):
    _, raw = make_token(store, ["tokens:read"])
    victim, _ = make_token(store, ["store:read"])
    before = _tokens_state()
    _assert_error(api.delete(f"/api/v1/tokens/{victim.pk}", **_auth(raw)), 403,
                  "insufficient_scope")
    assert _tokens_state() == before


def test_a_non_numeric_token_id_is_a_json_4xx(api, store):
    _, raw = make_token(store, ["tokens:write"])
    response = api.delete("/api/v1/tokens/abc", **_auth(raw))
    assert response.status_code in (404, 422)
    assert response.json()["error"]["code"]


# -- schema and unknown paths ---------------------------------------------------------------


def test_openapi_lists_the_store_paths_and_the_bearer_scheme(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert "get" in paths["/api/v1/store"]
    assert {"get", "post"} <= set(paths["/api/v1/tokens"])
    assert "delete" in paths["/api/v1/tokens/{token_id}"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/tokens/1/nope", "/api/nope"])
def test_an_unknown_api_path_is_a_json_404(api, path):
    response = api.get(path)
    _assert_error(response, 404, "not_found")
