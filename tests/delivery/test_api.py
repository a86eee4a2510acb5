"""Store API for servers, queues, the store secret, delivery settings and retries."""

from __future__ import annotations

import pytest
from django.test import Client

from shopkeep.delivery.agent import fail
from shopkeep.delivery.models import AgentKey, DeliveryCommand, GameServer
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, make_shop, paid_order
from tests.delivery.conftest import add_server, commands_of
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def _client(store, scopes: list[str]) -> Client:
    _, raw = make_token(store, scopes)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _state() -> tuple:
    return (sorted(GameServer.objects.values_list("pk", "name", "secret_hash", "removed_at")),
            sorted(AgentKey.objects.values_list("store_id", "secret_hash", "max_attempts")),
            sorted(DeliveryCommand.objects.values_list("pk", "status")),
            AuditLog.objects.count())


@pytest.fixture
def setup(django_capture_on_commit_callbacks):
    store = make_shop()
    server, _, _ = add_server(store)
    order = paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)
    return store, server, order


def test_create_returns_secrets_once_and_lists_the_server(db):
    store = make_shop()
    writer = _client(store, ["servers:write"])
    response = writer.post("/api/v1/servers", {"name": "Survival", "game": "minecraft"},
                           content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["server_secret"].startswith("srv_")
    assert body["store_secret"].startswith("sks_")
    second = writer.post("/api/v1/servers", {"name": "Creative"},
                         content_type="application/json").json()
    assert second["store_secret"] is None  # the store already has one
    listing = writer.get("/api/v1/servers").json()
    assert [s["name"] for s in listing["items"]] == ["Creative", "Survival"]
    assert "secret_hash" not in listing["items"][0]
    assert body["server_secret"] not in str(listing)


def test_bad_server_input_is_refused(db):
    store = make_shop()
    writer = _client(store, ["servers:write"])
    assert writer.post("/api/v1/servers", {"name": "X", "game": "quake"},
                       content_type="application/json").json()["error"]["code"] == "invalid_game"
    assert writer.post("/api/v1/servers", {"name": "Bad\x07name"},
                       content_type="application/json").status_code == 400
    assert not GameServer.objects.exists()


def test_read_scope_cannot_write(setup):
    store, server, _ = setup
    reader = _client(store, ["servers:read"])
    before = _state()
    assert reader.post("/api/v1/servers", {"name": "X"},
                       content_type="application/json").status_code == 403
    assert reader.delete(f"/api/v1/servers/{server.pk}").status_code == 403
    assert _state() == before


def test_outsider_store_gets_404_and_changes_nothing(setup):
    _store, server, order = setup
    outsider = _client(make_shop(), ["servers:write", "orders:read"])
    before = _state()
    for method, url in [("get", f"/api/v1/servers/{server.pk}"),
                        ("patch", f"/api/v1/servers/{server.pk}"),
                        ("delete", f"/api/v1/servers/{server.pk}"),
                        ("post", f"/api/v1/servers/{server.pk}/rotate-secret"),
                        ("post", f"/api/v1/servers/{server.pk}/release-agent"),
                        ("get", f"/api/v1/servers/{server.pk}/commands"),
                        ("get", f"/api/v1/orders/{order.pk}/deliveries"),
                        ("post", f"/api/v1/orders/{order.pk}/deliveries/retry")]:
        response = getattr(outsider, method)(url, {"name": "Hijack"} if method == "patch"
                                             else None, content_type="application/json")
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert _state() == before


def test_queue_and_deliveries_show_rendered_commands(setup):
    store, server, order = setup
    reader = _client(store, ["servers:read", "orders:read"])
    (queued,) = reader.get(f"/api/v1/servers/{server.pk}/commands?status=pending").json()["items"]
    assert queued["rendered"] == "say Thanks Steve" and queued["command"] == "say Thanks {player}"
    (delivery,) = reader.get(f"/api/v1/orders/{order.pk}/deliveries").json()
    assert [e["kind"] for e in delivery["log"]] == ["queued"]


def test_retry_requeues_failed_and_refuses_when_nothing_failed(setup):
    store, server, order = setup
    writer = _client(store, ["servers:write"])
    response = writer.post(f"/api/v1/orders/{order.pk}/deliveries/retry", "",
                           content_type="application/json")
    assert response.status_code == 409
    (command,) = commands_of(order)
    fail(server=server, command_id=command.pk, error="x", retryable=False)
    response = writer.post(f"/api/v1/orders/{order.pk}/deliveries/retry", "[1",
                           content_type="application/json")
    command.refresh_from_db()
    assert response.status_code == 400 and command.status == "failed"
    assert writer.post(f"/api/v1/orders/{order.pk}/deliveries/retry", "",
                       content_type="application/json").json() == {"retried": 1}
    command.refresh_from_db()
    assert command.status == "pending"


def test_remove_cancels_and_rotate_returns_a_new_secret(setup):
    store, server, order = setup
    writer = _client(store, ["servers:write"])
    rotated = writer.post(f"/api/v1/servers/{server.pk}/rotate-secret").json()
    assert rotated["server_secret"].startswith("srv_")
    assert writer.post("/api/v1/store-secret/rotate").json()["store_secret"].startswith("sks_")
    assert writer.delete(f"/api/v1/servers/{server.pk}").json() == {
        "removed": True, "cancelled_commands": 1}
    assert [c.status for c in commands_of(order)] == ["cancelled"]


def test_settings_round_trip_and_validation(db):
    store = make_shop()
    writer = _client(store, ["servers:write"])
    assert writer.get("/api/v1/delivery/settings").json() == {"max_attempts": 5,
                                                             "poll_seconds": 60}
    assert writer.put("/api/v1/delivery/settings", {"max_attempts": 0, "poll_seconds": 60},
                      content_type="application/json").status_code == 422
    assert writer.put("/api/v1/delivery/settings", {"max_attempts": 3, "poll_seconds": 10},
                      content_type="application/json").json() == {"max_attempts": 3,
                                                                 "poll_seconds": 10}
