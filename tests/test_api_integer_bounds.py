"""Integers beyond 64 bits anywhere in the API (path, query, body) answer 422, never 500.

Systematic: the OpenAPI schema is walked and 2**70 is sent to every integer field of every
operation, one field at a time, with the other fields filled with plausible values. The
original failures were 500s on ``POST /orders`` product ids and the ``customer_id`` /
``order_id`` filters (SQLite: "Python int too large to convert to SQLite INTEGER";
PostgreSQL: "value out of range for type bigint").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from django.test import Client

from shopkeep.delivery.services import server_create
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import SCOPES
from tests.factories import make_store, make_token, owner_of

pytestmark = pytest.mark.django_db

HUGE = 2**70


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return Client().get("/api/v1/openapi.json").json()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def _is_int(schema: dict, node: dict) -> bool:
    node = _resolve(schema, node)
    if node.get("type") == "integer":
        return True
    return any(_resolve(schema, option).get("type") == "integer"
               for option in node.get("anyOf", []))


def _sample(schema: dict, node: dict, depth: int = 0):
    """A plausible value for ``node``: enough for the rest of the body to validate."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if _resolve(schema, o).get("type") != "null"]
        return _sample(schema, options[0], depth) if options else None
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return {name: _sample(schema, sub, depth + 1)
                for name, sub in node.get("properties", {}).items()
                if name in node.get("required", []) and depth < 6}
    if kind == "array":
        return [_sample(schema, node.get("items", {}), depth + 1)] if depth < 6 else []
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    fmt = node.get("format", "")
    if fmt == "uri":
        return "https://example.com/"
    if fmt == "email":
        return "player@example.com"
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    if fmt == "decimal" or ("pattern" in node and "0-9" in node.get("pattern", "")):
        return "1.00"
    return "Steve_1"


def _int_paths(schema: dict, node: dict, prefix: tuple = (), depth: int = 0) -> Iterator[tuple]:
    """Every location (tuple of keys / 0 for array items) of an integer inside ``node``."""
    if depth > 6:
        return
    if _is_int(schema, node):
        yield prefix
        return
    node = _resolve(schema, node)
    for option in node.get("anyOf", []):
        yield from _int_paths(schema, option, prefix, depth + 1)
    for name, sub in node.get("properties", {}).items():
        yield from _int_paths(schema, sub, (*prefix, name), depth + 1)
    if node.get("type") == "array":
        yield from _int_paths(schema, node.get("items", {}), (*prefix, 0), depth + 1)


def _set(body, location: tuple, value) -> object:
    if not location:
        return value
    head, rest = location[0], location[1:]
    if isinstance(head, int):
        item = body[0] if isinstance(body, list) and body else {}
        return [_set(item, rest, value)]
    body = dict(body or {})
    body[head] = _set(body.get(head), rest, value)
    return body


def _cases(schema: dict) -> Iterator[tuple[str, str, str, tuple, dict]]:
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            params = op.get("parameters", [])
            for param in params:
                if param["in"] in ("path", "query") and _is_int(schema, param["schema"]):
                    yield method, path, param["in"], (param["name"],), op
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                for location in _int_paths(schema, content["schema"]):
                    yield method, path, "body", location, op


@pytest.fixture
def credentials() -> dict:
    store = make_store()
    _, raw = make_token(store, list(SCOPES))
    _server, server_secret, store_secret = server_create(
        store=store, actor=Actor.for_user(owner_of(store)), name="Survival")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_X_STORE_SECRET": store_secret,
            "HTTP_X_SERVER_SECRET": server_secret, "HTTP_X_AGENT_INSTANCE": "probe-1"}


def test_the_schema_has_integer_fields_to_probe(schema):
    cases = list(_cases(schema))
    where = {case[2] for case in cases}
    assert where == {"path", "query", "body"}
    assert len(cases) > 40
    probed = {(m, p, w, loc) for m, p, w, loc, _ in cases}
    # The three original 500s are among them.
    assert ("post", "/api/v1/orders", "body", ("items", 0, "product_id")) in probed
    assert ("get", "/api/v1/orders", "query", ("customer_id",)) in probed
    assert ("get", "/api/v1/disputes", "query", ("order_id",)) in probed


def test_an_integer_beyond_64_bits_is_422_in_every_field_of_the_api(schema, credentials):
    client = Client()
    failures = []
    for method, path, where, location, op in _cases(schema):
        concrete = path
        query: dict = {}
        for param in op.get("parameters", []):
            if param["in"] == "path":
                value = HUGE if (where == "path" and param["name"] == location[0]) else (
                    1 if _is_int(schema, param["schema"]) else
                    (_resolve(schema, param["schema"]).get("enum") or ["purchase"])[0])
                concrete = concrete.replace("{" + param["name"] + "}", str(value))
        if where == "query":
            query[location[0]] = str(HUGE)
        body = None
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content:
            body = _sample(schema, content["schema"])
            if where == "body":
                body = _set(body, location, HUGE)
        url = concrete + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        response = client.generic(method.upper(), url, data=json.dumps(body) if body is not None
                                  else "", content_type="application/json", **credentials)
        label = f"{method.upper()} {path} {where} {'.'.join(map(str, location))}"
        if response.status_code != 422:
            failures.append(f"{label}: {response.status_code} {response.content[:160]!r}")
            continue
        details = response.json()["error"].get("details", [])
        named = str(location[-1]) if not isinstance(location[-1], int) else str(location[-2])
        if not any(named in d["loc"] for d in details):
            failures.append(f"{label}: 422 but not for the field: {details}")
    assert failures == [], "\n".join(failures)


def test_negative_integers_beyond_64_bits_are_422_too(credentials):
    client = Client()
    response = client.get(f"/api/v1/orders?customer_id={-HUGE}", **credentials)
    assert response.status_code == 422
    response = client.get(f"/api/v1/orders/{HUGE}", **credentials)
    assert response.status_code == 422
    assert re.search("order_id", response.content.decode())
