"""The catalog routes of the store API: scopes, error shapes and tenant isolation."""

from __future__ import annotations

import pytest

from shopkeep.catalog.models import Category, DeliveryAction, Product
from shopkeep.catalog.placeholders import PLACEHOLDERS
from shopkeep.catalog.services import (
    ActionInput,
    ProductInput,
    category_create,
    delivery_actions_set,
    product_create,
)
from shopkeep.stores.audit import Actor
from tests.catalog.state import catalog_state, events
from tests.factories import make_store, make_token, owner_of

pytestmark = pytest.mark.django_db

API = "/api/v1"


class Api:
    """A test client that sends one token's key with every request."""

    def __init__(self, client, raw: str) -> None:
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path: str, **params):
        return self.client.get(API + path, params, **self.headers)

    def post(self, path: str, body):
        return self.client.post(API + path, body, content_type="application/json",
                                **self.headers)

    def put(self, path: str, body):
        return self.client.put(API + path, body, content_type="application/json",
                               **self.headers)

    def delete(self, path: str):
        return self.client.delete(API + path, **self.headers)


@pytest.fixture
def writer(client, store):
    return Api(client, make_token(store, ["products:write"])[1])


@pytest.fixture
def reader(client, store):
    return Api(client, make_token(store, ["products:read"])[1])


@pytest.fixture
def outsider(client):
    """A token of another store with every catalog scope."""
    return Api(client, make_token(make_store(), ["products:write"])[1])


@pytest.fixture
def category(store, actor):
    return category_create(store=store, actor=actor, name="Weapons")


@pytest.fixture
def product(store, actor, category):
    product = product_create(store=store, actor=actor, data=ProductInput(
        name="Diamond Sword", price="14.99", category_id=category.pk))
    delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                         actions=[ActionInput(commands=["give {player} diamond_sword"])])
    return product


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


PRODUCT_BODY = {"name": "VIP Rank", "price": "9.99"}


# -- authentication and scopes ----------------------------------------------------------------


def test_no_token_is_401_with_the_json_error(client, product):
    response = client.get(f"{API}/products")
    error = _error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert "sk_" not in error["message"]


def test_a_token_without_product_scopes_is_403(client, store, product):
    api = Api(client, make_token(store, ["customers:write"])[1])
    error = _error(api.get("/products"), 403, "insufficient_scope")
    assert "products:read" in error["message"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/categories", {"name": "Kits"}),
    ("put", "/categories/{category}", {"name": "Kits"}),
    ("delete", "/categories/{category}", None),
    ("post", "/products", PRODUCT_BODY),
    ("put", "/products/{product}", PRODUCT_BODY),
    ("delete", "/products/{product}", None),
    ("put", "/products/{product}/actions/purchase", [{"commands": ["op {player}"]}]),
])
def test_a_read_token_cannot_write(reader, store, product, method, path, body):
    path = path.format(category=product.category_id, product=product.pk)
    before = catalog_state(store)
    args = (path,) if body is None else (path, body)
    error = _error(getattr(reader, method)(*args), 403, "insufficient_scope")
    assert "products:write" in error["message"]
    assert catalog_state(store) == before


def test_a_write_token_can_read(writer, product):
    assert writer.get("/products").status_code == 200


# -- categories -------------------------------------------------------------------------------


def test_categories_list_paginates_and_shows_only_this_store(reader, store, actor, category):
    other = make_store()
    category_create(store=other, actor=Actor.for_user(owner_of(other)), name="Foreign")
    body = reader.get("/categories").json()
    assert [c["name"] for c in body["items"]] == ["Weapons"]
    assert body["meta"] == {"page": 1, "per_page": 50, "total": 1, "has_more": False}


def test_category_detail(reader, category):
    assert reader.get(f"/categories/{category.pk}").json() == {
        "id": category.pk, "name": "Weapons", "slug": "weapons", "description": "",
        "sort_order": 0}


def test_category_create_answers_201(writer, store):
    response = writer.post("/categories", {"name": "Ranks", "sort_order": 2})
    assert response.status_code == 201
    assert response.json()["slug"] == "ranks"
    assert Category.objects.get(store=store, slug="ranks").sort_order == 2


def test_category_update(writer, category):
    response = writer.put(f"/categories/{category.pk}", {"name": "Swords", "slug": "swords"})
    assert response.status_code == 200
    category.refresh_from_db()
    assert (category.name, category.slug) == ("Swords", "swords")


def test_category_delete_answers_204(writer, category):
    assert writer.delete(f"/categories/{category.pk}").status_code == 204
    assert not Category.objects.filter(pk=category.pk).exists()


def test_a_duplicate_category_slug_is_409_naming_the_field(writer, store, category):
    before = catalog_state(store)
    error = _error(writer.post("/categories", {"name": "Weapons"}), 409, "slug_taken")
    assert error["field"] == "slug"
    assert catalog_state(store) == before


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101},
                                  {"name": "Ok", "sort_order": "lots"}])
def test_an_invalid_category_body_is_422_with_details(writer, store, body):
    before = catalog_state(store)
    error = _error(writer.post("/categories", body), 422, "validation_error")
    assert error["details"] and all({"loc", "message"} == set(d) for d in error["details"])
    assert catalog_state(store) == before


# -- products ---------------------------------------------------------------------------------


def test_products_list_hides_deleted_and_foreign_products(reader, store, actor, product):
    gone = product_create(store=store, actor=actor, data=ProductInput(name="Gone", price="1"))
    Product.objects.filter(pk=gone.pk).update(deleted_at=gone.created_at)
    other = make_store()
    product_create(store=other, actor=Actor.for_user(owner_of(other)),
                   data=ProductInput(name="Foreign", price="1"))
    body = reader.get("/products").json()
    assert [p["id"] for p in body["items"]] == [product.pk]
    assert body["meta"]["total"] == 1


def test_products_list_filters(reader, store, actor, product):
    hidden = product_create(store=store, actor=actor,
                            data=ProductInput(name="Hidden", price="1", is_active=False))
    assert [p["id"] for p in reader.get("/products", active="false").json()["items"]] == [
        hidden.pk]
    by_category = reader.get("/products", category_id=product.category_id).json()["items"]
    assert [p["id"] for p in by_category] == [product.pk]


def test_products_list_pages(reader, store, actor):
    for n in range(3):
        product_create(store=store, actor=actor, data=ProductInput(name=f"P{n}", price="1"))
    body = reader.get("/products", page=2, per_page=2).json()
    assert len(body["items"]) == 1
    assert body["meta"] == {"page": 2, "per_page": 2, "total": 3, "has_more": False}


def test_product_detail_shows_money_as_a_string(reader, product):
    body = reader.get(f"/products/{product.pk}").json()
    assert (body["id"], body["price"], body["currency"], body["billing_interval"]) == (
        product.pk, "14.99", "USD", None)


def test_product_create_answers_201_and_emits_one_event(writer, store):
    response = writer.post("/products", PRODUCT_BODY | {
        "description": "**VIP** <script>x</script>"})
    assert response.status_code == 201
    body = response.json()
    assert (body["slug"], body["price"]) == ("vip-rank", "9.99")
    assert "<strong>VIP</strong>" in body["description_html"]
    assert "<script" not in body["description_html"]
    assert [e.event_type for e in events(store)] == ["product.created"]


def test_product_update_emits_the_changes(writer, store, product):
    response = writer.put(f"/products/{product.pk}", {
        "name": "Diamond Sword", "price": "12.99", "category_id": product.category_id})
    assert response.status_code == 200
    assert response.json()["price"] == "12.99"
    [event] = events(store, "product.updated")
    assert event.data["changes"] == {"price": {"old": "14.99", "new": "12.99"}}


def test_product_delete_answers_204_and_hides_the_product(writer, store, product):
    assert writer.delete(f"/products/{product.pk}").status_code == 204
    _error(writer.get(f"/products/{product.pk}"), 404, "not_found")
    assert len(events(store, "product.deleted")) == 1


def test_a_service_refusal_is_400_naming_the_field(writer, store):
    before = catalog_state(store)
    error = _error(writer.post("/products", PRODUCT_BODY | {"type": "subscription"}), 400,
                   "invalid_interval")
    assert error["field"] == "billing_interval"
    assert catalog_state(store) == before


def test_a_yen_price_with_decimals_is_400(client):
    store = make_store(currency="JPY")
    api = Api(client, make_token(store, ["products:write"])[1])
    before = catalog_state(store)
    error = _error(api.post("/products", {"name": "Kit", "price": "1500.50"}), 400,
                   "invalid_price")
    assert error["field"] == "price"
    assert catalog_state(store) == before


@pytest.mark.parametrize("body", [
    {},
    {"name": "VIP"},
    {"name": "VIP", "price": "-1"},
    {"name": "VIP", "price": "1.999"},
    {"name": "VIP", "price": "abc"},
    {"name": "VIP", "price": "1", "type": "bundle"},
    {"name": "VIP", "price": "1", "trial_days": 400},
    {"name": "VIP", "price": "1", "stock_quantity": -1},
    {"name": "", "price": "1"},
])
def test_an_invalid_product_body_is_422(writer, store, body):
    before = catalog_state(store)
    _error(writer.post("/products", body), 422, "validation_error")
    assert catalog_state(store) == before


def test_a_body_that_is_not_json_is_refused(writer, store):
    before = catalog_state(store)
    response = writer.client.post(f"{API}/products", "{not json", content_type="application/json",
                                  **writer.headers)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    assert catalog_state(store) == before


# -- actions and placeholders ------------------------------------------------------------------


def test_actions_get_lists_one_trigger(reader, product):
    assert reader.get(f"/products/{product.pk}/actions/purchase").json() == {
        "trigger": "purchase",
        "actions": [{"commands": ["give {player} diamond_sword"], "require_online": False,
                     "repeat_per_quantity": False, "safe_to_repeat": False,
                     "delay_after_join": 0, "all_servers": True, "server_ids": []}]}
    assert reader.get(f"/products/{product.pk}/actions/refund").json() == {
        "trigger": "refund", "actions": []}


def test_actions_put_replaces_the_trigger(writer, product):
    response = writer.put(f"/products/{product.pk}/actions/purchase",
                          [{"commands": ["lp user {player} parent add vip"],
                            "require_online": True}])
    assert response.status_code == 200
    assert response.json()["actions"][0]["commands"] == ["lp user {player} parent add vip"]
    assert [a.commands for a in DeliveryAction.objects.filter(product=product)] == [
        ["lp user {player} parent add vip"]]


def test_an_unknown_placeholder_is_400_and_keeps_the_old_actions(writer, store, product):
    before = catalog_state(store)
    error = _error(writer.put(f"/products/{product.pk}/actions/purchase",
                              [{"commands": ["give {player} {item}"]}]), 400, "invalid_command")
    assert "{item}" in error["message"]
    assert catalog_state(store) == before


def test_require_online_on_a_refund_is_400(writer, store, product):
    before = catalog_state(store)
    _error(writer.put(f"/products/{product.pk}/actions/refund",
                      [{"commands": ["lp user {player} parent remove vip"],
                        "require_online": True}]), 400, "invalid_action")
    assert catalog_state(store) == before


def test_an_unknown_trigger_is_422(writer, store, product):
    before = catalog_state(store)
    _error(writer.put(f"/products/{product.pk}/actions/gift", [{"commands": ["say hi"]}]),
           422, "validation_error")
    assert catalog_state(store) == before


def test_placeholders_lists_every_placeholder(reader):
    body = reader.get("/placeholders").json()
    assert {p["name"]: p["description"] for p in body} == PLACEHOLDERS


# -- another store's token ------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/categories/{category}", None),
    ("put", "/categories/{category}", {"name": "Mine"}),
    ("delete", "/categories/{category}", None),
    ("get", "/products/{product}", None),
    ("put", "/products/{product}", {"name": "Mine", "price": "0.01"}),
    ("delete", "/products/{product}", None),
    ("get", "/products/{product}/actions/purchase", None),
    ("put", "/products/{product}/actions/purchase", [{"commands": ["op {player}"]}]),
])
def test_another_stores_token_gets_404_and_changes_nothing(outsider, store, product, method,
                                                           path, body):
    path = path.format(category=product.category_id, product=product.pk)
    before = catalog_state(store)
    args = (path,) if body is None else (path, body)
    error = _error(getattr(outsider, method)(*args), 404, "not_found")
    assert error["message"] == "Not found."
    assert catalog_state(store) == before


def test_a_missing_id_reads_exactly_like_a_foreign_one(outsider, writer, product):
    foreign = outsider.get(f"/products/{product.pk}")
    missing = writer.get("/products/999999")
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())


def test_another_stores_lists_do_not_show_this_stores_rows(outsider, product):
    assert outsider.get("/products").json()["items"] == []
    assert outsider.get("/categories").json()["items"] == []


def test_a_product_cannot_be_put_into_another_stores_category(outsider, store, category):
    error = _error(outsider.post("/products", PRODUCT_BODY | {"category_id": category.pk}),
                   400, "invalid_category")
    assert error["field"] == "category_id"
    assert not Product.objects.filter(category=category).exists()


def test_products_list_their_cover_and_gallery_pictures_in_order(reader, store, actor,
                                                                 product):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shopkeep.catalog.gallery import gallery_image_add, gallery_image_move
    from tests.images import PNG

    assert reader.get(f"/products/{product.pk}").json()["images"] == []
    first = gallery_image_add(store=store, actor=actor, product=product,
                              image=SimpleUploadedFile("a.png", PNG), alt_text="Blade")
    gallery_image_add(store=store, actor=actor, product=product,
                      image=SimpleUploadedFile("b.png", PNG), alt_text="Hilt")
    gallery_image_move(store=store, actor=actor, product=product, image_id=first.pk,
                       direction="down")
    images = reader.get(f"/products/{product.pk}").json()["images"]
    assert [(i["alt_text"], i["position"]) for i in images] == [("Hilt", 1), ("Blade", 2)]
    assert all(i["url"].startswith("http") and "/media/product-images/" in i["url"]
               for i in images)
    listed = reader.get("/products").json()["items"]
    assert [i["alt_text"] for i in listed[0]["images"]] == ["Hilt", "Blade"]
