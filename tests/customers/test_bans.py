"""Bans: made, normalised, enforced in the checkout service (storefront and headless API),
audited, lifted; the buyer reads a clear refusal and nothing is written."""

from __future__ import annotations

import pytest
from django.test import Client

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.tenancy import NotFound
from shopkeep.customers import bans
from shopkeep.customers.models import Customer, CustomerBan
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line
from shopkeep.payments.flows import order_create
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from tests.commerce import buyer, make_product, make_shop, place_order
from tests.factories import add_member, make_token, owner_of
from tests.storefront.shop import checkout_data, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return make_shop(slug="shop")


@pytest.fixture
def owner(shop):
    return Actor.for_user(owner_of(shop))


@pytest.fixture
def product(shop):
    return make_product(shop)


def _buy(shop, product, email="player@example.com", player="Steve", ip=""):
    return order_create(store=shop, lines=[Line(product.pk, 1)],
                        customer=buyer(email, player), buyer_ip=ip)


def _nothing_written(orders: int, customers: int, events: int) -> None:
    assert Order.objects.count() == orders
    assert Customer.objects.count() == customers
    assert Event.objects.count() == events


@pytest.mark.parametrize("kind,value,email,player,ip", [
    ("email", "Player@Example.com", "player@example.com", "Steve", ""),
    ("player", "STEVE", "other@example.com", "Steve", ""),
    ("ip", "203.0.113.9", "other@example.com", "Alex", "203.0.113.9"),
])
def test_checkout_refuses_a_banned_buyer_and_writes_nothing(shop, owner, product, kind, value,
                                                           email, player, ip):
    bans.ban_create(store=shop, actor=owner, kind=kind, value=value, reason="chargebacks",
                    public_message="Contact us on Discord.")
    before = (Order.objects.count(), Customer.objects.count(), Event.objects.count())
    with pytest.raises(ServiceError) as exc:
        _buy(shop, product, email=email, player=player, ip=ip)
    assert exc.value.status == 403 and exc.value.code == "customer_banned"
    assert exc.value.message == "Contact us on Discord."
    assert "chargebacks" not in exc.value.message  # the reason is internal
    _nothing_written(*before)


def test_a_lifted_ban_lets_the_buyer_check_out_again(shop, owner, product):
    ban = bans.ban_create(store=shop, actor=owner, kind="email", value="player@example.com",
                          reason="fraud")
    bans.ban_lift(store=shop, actor=owner, ban=ban, note="talked it over")
    assert _buy(shop, product).status == "pending"
    assert list(AuditLog.objects.filter(action__startswith="customer.ban")
                .values_list("action", flat=True).order_by("id")) == [
        "customer.banned", "customer.ban_lifted"]


def test_lifting_twice_is_a_conflict_and_changes_nothing(shop, owner):
    ban = bans.ban_create(store=shop, actor=owner, kind="player", value="Steve", reason="x")
    bans.ban_lift(store=shop, actor=owner, ban=ban)
    audits = AuditLog.objects.count()
    with pytest.raises(Conflict):
        bans.ban_lift(store=shop, actor=owner, ban=ban)
    assert AuditLog.objects.count() == audits


def test_a_ban_in_one_store_does_not_refuse_checkout_in_another(shop, owner):
    bans.ban_create(store=shop, actor=owner, kind="email", value="player@example.com",
                    reason="x")
    other = make_shop(slug="other")
    assert _buy(other, make_product(other)).status == "pending"


def test_the_same_active_ban_twice_is_a_conflict(shop, owner):
    bans.ban_create(store=shop, actor=owner, kind="email", value="a@example.com", reason="x")
    with pytest.raises(Conflict):
        bans.ban_create(store=shop, actor=owner, kind="email", value="A@example.com",
                        reason="y")
    assert CustomerBan.objects.count() == 1


@pytest.mark.parametrize("kind,value", [("ip", "not-an-ip"), ("uuid", "x"),
                                        ("steam_id", "abc"), ("email", "a\nb"),
                                        ("nonsense", "x")])
def test_bad_ban_values_are_refused(shop, owner, kind, value):
    with pytest.raises(ServiceError):
        bans.ban_create(store=shop, actor=owner, kind=kind, value=value, reason="x")
    assert not CustomerBan.objects.exists()


def test_a_ban_needs_a_reason(shop, owner):
    with pytest.raises(ServiceError) as exc:
        bans.ban_create(store=shop, actor=owner, kind="email", value="a@example.com",
                        reason=" ")
    assert exc.value.code == "reason_required"


def test_support_members_cannot_ban(shop):
    support = Actor.for_user(add_member(shop, Role.SUPPORT).user)
    with pytest.raises(ServiceError):
        bans.ban_create(store=shop, actor=support, kind="email", value="a@example.com",
                        reason="x")
    assert not CustomerBan.objects.exists()


def test_banning_a_customer_bans_each_identifier_they_have(shop, owner, product):
    place_order(shop, product)
    customer = Customer.objects.get()
    made = bans.customer_ban(store=shop, actor=owner, customer=customer,
                             kinds=["email", "player", "steam_id"], reason="abuse")
    assert sorted((b.kind, b.value) for b in made) == [("email", "player@example.com"),
                                                        ("player", "steve")]
    assert all(b.customer_id == customer.pk for b in made)


def test_banning_another_stores_customer_is_not_found(shop, product):
    place_order(shop, product)
    customer = Customer.objects.get()
    other = make_shop(slug="other")
    with pytest.raises(NotFound):
        bans.customer_ban(store=other, actor=Actor.for_user(owner_of(other)), customer=customer,
                          kinds=["email"], reason="x")
    assert not CustomerBan.objects.exists()


# -- the storefront shows the refusal ----------------------------------------------------------

def test_storefront_checkout_shows_the_ban_message_and_creates_no_order(client, shop, owner,
                                                                      product):
    bans.ban_create(store=shop, actor=owner, kind="player", value="Steve_01", reason="griefing",
                    public_message="You are banned from this store. Appeal on our Discord.")
    client.post(url("product", product.slug), {"quantity": "1"})
    response = client.post(url("checkout"), checkout_data())
    assert response.status_code == 400  # the form again, with the refusal above it
    assert b"You are banned from this store. Appeal on our Discord." in response.content
    assert b"griefing" not in response.content
    assert not Order.objects.exists() and not Customer.objects.exists()


# -- store API -------------------------------------------------------------------------------

def _api(store, scopes):
    _, raw = make_token(store, scopes)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_ban_then_headless_checkout_is_refused_with_403(shop, product):
    client = _api(shop, ["customers:read", "customers:write", "orders:write"])
    made = client.post("/api/v1/bans", {"kind": "ip", "value": "198.51.100.7",
                                        "reason": "card testing"},
                       content_type="application/json")
    assert made.status_code == 201, made.content
    order = client.post("/api/v1/orders", {
        "items": [{"product_id": product.pk, "quantity": 1}],
        "customer": {"email": "new@example.com", "player_name": "Alex"},
        "buyer_ip": "198.51.100.7", "success_url": "https://example.com/ok",
        "cancel_url": "https://example.com/no"}, content_type="application/json")
    assert order.status_code == 403
    assert order.json()["error"]["code"] == "customer_banned"
    assert not Order.objects.exists()
    lifted = client.post(f"/api/v1/bans/{made.json()['id']}/lift", {},
                         content_type="application/json")
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert client.get("/api/v1/bans?active=true").json()["items"] == []


def test_api_customer_ban_and_notes(shop, product):
    place_order(shop, product)
    customer = Customer.objects.get()
    client = _api(shop, ["customers:read", "customers:write"])
    response = client.post(f"/api/v1/customers/{customer.pk}/ban", {"reason": "abuse"},
                           content_type="application/json")
    assert response.status_code == 201
    assert {b["kind"] for b in response.json()} == {"email", "player"}
    note = client.post(f"/api/v1/customers/{customer.pk}/notes", {"body": "VIP since 2020"},
                       content_type="application/json")
    assert note.status_code == 201
    assert [n["body"] for n in client.get(f"/api/v1/customers/{customer.pk}/notes").json()] == [
        "VIP since 2020"]


def test_api_outsider_cannot_see_or_change_bans_or_notes(shop, owner, product):
    place_order(shop, product)
    customer = Customer.objects.get()
    ban = bans.ban_create(store=shop, actor=owner, kind="email", value="x@example.com",
                          reason="x")
    other = make_shop(slug="other")
    client = _api(other, ["customers:read", "customers:write"])
    audits = AuditLog.objects.count()
    assert client.post(f"/api/v1/bans/{ban.pk}/lift", {},
                       content_type="application/json").status_code == 404
    assert client.post(f"/api/v1/customers/{customer.pk}/ban", {"reason": "x"},
                       content_type="application/json").status_code == 404
    assert client.get(f"/api/v1/customers/{customer.pk}/notes").status_code == 404
    assert client.post(f"/api/v1/customers/{customer.pk}/notes", {"body": "x"},
                       content_type="application/json").status_code == 404
    assert client.get("/api/v1/bans").json()["items"] == []
    assert client.post("/api/v1/bans", {"kind": "email", "value": "y@example.com",
                                        "reason": "x", "customer_id": customer.pk},
                       content_type="application/json").status_code == 404
    ban.refresh_from_db()
    assert ban.active and AuditLog.objects.count() == audits
    assert CustomerBan.objects.count() == 1


def test_api_read_scope_cannot_ban(shop):
    client = _api(shop, ["customers:read"])
    assert client.post("/api/v1/bans", {"kind": "email", "value": "y@example.com",
                                        "reason": "x"},
                       content_type="application/json").status_code == 403
    assert not CustomerBan.objects.exists()
