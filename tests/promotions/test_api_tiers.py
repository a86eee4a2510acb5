"""/api/v1/tier-groups: the ladder through the store API, and an outsider store."""

from __future__ import annotations

import pytest

from shopkeep.promotions.models import Tier, TierGroup
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import make_token
from tests.promotions.test_api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def ranks(store):
    return [make_product(store, name=n, price=p, purchase_command=None)
            for n, p in (("VIP", "10.00"), ("MVP", "25.00"), ("Legend", "40.00"))]


@pytest.fixture
def writer(client, store):
    return Api(client, make_token(store, ["promotions:write"])[1])


def _state():
    return (sorted(TierGroup.objects.values_list("pk", "name")),
            sorted(Tier.objects.values_list("group_id", "product_id", "rank")),
            AuditLog.objects.count())


def test_a_ladder_is_created_listed_reordered_and_deleted(writer, ranks):
    vip, mvp, legend = ranks
    created = writer.send("post", "/tier-groups", {"name": "Ranks",
                                                   "product_ids": [vip.pk, mvp.pk]})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert [(t["rank"], t["product_name"], t["price"]) for t in body["tiers"]] == [
        (1, "VIP", "10.00"), (2, "MVP", "25.00")]
    listed = writer.get("/tier-groups").json()
    assert [g["name"] for g in listed["items"]] == ["Ranks"]
    changed = writer.send("put", f"/tier-groups/{body['id']}", {
        "name": "Ranks", "product_ids": [vip.pk, mvp.pk, legend.pk]})
    assert [t["product_id"] for t in changed.json()["tiers"]] == [vip.pk, mvp.pk, legend.pk]
    assert writer.send("delete", f"/tier-groups/{body['id']}").status_code == 204
    assert not TierGroup.objects.exists() and not Tier.objects.exists()


def test_invalid_ladders_get_the_json_error_shape_and_change_nothing(writer, store, ranks):
    vip, mvp, _ = ranks
    writer.send("post", "/tier-groups", {"name": "Ranks", "product_ids": [vip.pk, mvp.pk]})
    before = _state()
    for body, status, code in [
            ({"name": "Two", "product_ids": [vip.pk, ranks[2].pk]}, 409, "tier_taken"),
            ({"name": "Ranks", "product_ids": [ranks[2].pk, make_product(
                store, name="X", purchase_command=None).pk]}, 409, "name_taken"),
            ({"name": "Three", "product_ids": [ranks[2].pk, 999999]}, 400, "unknown_product")]:
        response = writer.send("post", "/tier-groups", body)
        assert response.status_code == status, response.json()
        assert response.json()["error"]["code"] == code
    assert writer.send("post", "/tier-groups", {"name": "One", "product_ids": [vip.pk]}
                       ).status_code == 422
    assert _state()[:2] == before[:2]


def test_the_upgrade_price_for_a_customer(writer, store, ranks,
                                          django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    writer.send("post", "/tier-groups", {"name": "Ranks", "product_ids": [vip.pk, mvp.pk]})
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    answer = writer.get(f"/tier-groups/upgrade-price?customer_id={held.customer_id}"
                        f"&product_id={mvp.pk}").json()
    assert answer == {"product_id": mvp.pk, "upgrade": True, "from_product_name": "VIP",
                      "credit": "10.00", "price": "15.00"}
    plain = writer.get(f"/tier-groups/upgrade-price?customer_id={held.customer_id}"
                       f"&product_id={vip.pk}").json()
    assert plain["upgrade"] is False and plain["price"] == "10.00"


def test_a_read_token_cannot_write(client, store, ranks):
    reader = Api(client, make_token(store, ["promotions:read"])[1])
    response = reader.send("post", "/tier-groups", {"name": "Ranks",
                                                    "product_ids": [p.pk for p in ranks]})
    assert response.status_code == 403 and not TierGroup.objects.exists()


def test_an_outsider_store_sees_nothing_and_changes_nothing(
        client, writer, store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    group = writer.send("post", "/tier-groups", {"name": "Ranks",
                                                 "product_ids": [vip.pk, mvp.pk]}).json()
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    other = make_shop()
    outsider = Api(client, make_token(other, ["promotions:write"])[1])
    mine = [make_product(other, name=n, purchase_command=None) for n in ("A", "B")]
    before = _state()
    assert outsider.get("/tier-groups").json()["items"] == []
    for method, body in (("get", None), ("put", {"name": "Mine",
                                                 "product_ids": [vip.pk, mvp.pk]}),
                         ("delete", None)):
        response = (outsider.get(f"/tier-groups/{group['id']}") if method == "get"
                    else outsider.send(method, f"/tier-groups/{group['id']}", body))
        assert response.status_code == 404, (method, response.json())
        assert response.json()["error"]["code"] == "not_found"
    # Another store's products cannot join a ladder here, and its customers are unknown.
    response = outsider.send("post", "/tier-groups", {"name": "Steal",
                                                      "product_ids": [vip.pk, mine[0].pk]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_product"
    assert outsider.get(f"/tier-groups/upgrade-price?customer_id={held.customer_id}"
                        f"&product_id={mvp.pk}").status_code == 404
    assert _state() == before
