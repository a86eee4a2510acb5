"""Dashboard pages for coupons, sales and gift cards: forms, roles, outsiders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.promotions.models import Coupon, GiftCard, GiftCardTransaction, Sale
from shopkeep.stores.models import AuditLog, Role
from tests.commerce import make_shop
from tests.factories import add_member, owner_of
from tests.promotions.helpers import make_coupon, make_gift_card, make_sale

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="target", name="Target Store")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_owner(store) -> Client:
    return _client(owner_of(store))


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.slug, *args])


def _state():
    return (sorted(Coupon.objects.values_list("pk", "code", "value", "is_active")),
            sorted(Sale.objects.values_list("pk", "name", "value")),
            sorted(GiftCard.objects.values_list("pk", "balance", "is_active")),
            GiftCardTransaction.objects.count(), AuditLog.objects.count())


def test_the_nav_links_to_promotions(as_owner, store):
    html = as_owner.get(_url("overview", store)).content.decode()
    assert _url("coupons", store) in html


def test_a_coupon_is_created_from_the_form_with_times_in_the_store_zone(as_owner, store):
    store.time_zone = "America/New_York"
    store.save()
    response = as_owner.post(_url("coupon_create", store), {
        "code": "fall20", "kind": "percent", "value": "20", "scope": "basket",
        "ends_at": "2026-11-01T12:00", "combines_with_sales": "on", "is_active": "on"})
    assert response.status_code == 302, response.content
    coupon = Coupon.objects.get()
    assert coupon.code == "FALL20"
    assert coupon.ends_at.isoformat() == "2026-11-01T17:00:00+00:00"  # 12:00 EST
    html = as_owner.get(_url("coupons", store)).content.decode()
    # Human words ("ends in 11 months") with the exact local time in the title.
    assert "FALL20" in html and 'title="2026-11-01 12:00:00 EST"' in html


def test_a_bad_coupon_shows_the_form_error_and_creates_nothing(as_owner, store):
    before = _state()
    response = as_owner.post(_url("coupon_create", store), {
        "code": "X", "kind": "percent", "value": "20", "scope": "basket"})
    assert response.status_code == 400
    assert "A code is 3 to 40 letters" in response.content.decode()
    assert _state() == before


def test_a_sale_is_created_and_listed_as_running(as_owner, store):
    response = as_owner.post(_url("sale_create", store), {
        "name": "Black Friday", "kind": "percent", "value": "30", "all_products": "on",
        "starts_at": "2020-01-01T00:00", "ends_at": "2099-01-01T00:00", "is_active": "on"})
    assert response.status_code == 302, response.content
    html = as_owner.get(_url("sales", store)).content.decode()
    assert "Black Friday" in html and "running" in html


def test_issuing_a_gift_card_shows_its_code_once(as_owner, store):
    response = as_owner.post(_url("gift_cards", store), {"amount": "15.00", "note": "prize"})
    card = GiftCard.objects.get()
    assert card.display_code in response.content.decode()
    assert card.display_code not in as_owner.get(_url("gift_cards", store)).content.decode()
    detail = as_owner.get(_url("gift_card_detail", store, card.pk)).content.decode()
    assert card.display_code not in detail and "15.00 USD" in detail


def test_the_balance_is_adjusted_with_a_ledger_row(as_owner, store):
    card = make_gift_card(store, "10.00")
    response = as_owner.post(_url("gift_card_detail", store, card.pk),
                             {"direction": "add", "amount": "2.50", "note": "sorry"},
                             follow=True)
    assert "Balance is now 12.50 USD." in response.content.decode()
    card.refresh_from_db()
    assert card.balance == Decimal("12.50") and card.ledger.count() == 2
    response = as_owner.post(_url("gift_card_detail", store, card.pk),
                             {"direction": "remove", "amount": "100", "note": ""})
    assert response.status_code == 400
    card.refresh_from_db()
    assert card.balance == Decimal("12.50")


def test_support_members_see_promotions_but_change_nothing(store):
    support = _client(add_member(store, Role.SUPPORT).user)
    coupon = make_coupon(store, "KEEP")
    card = make_gift_card(store, "10.00")
    assert support.get(_url("coupons", store)).status_code == 200
    before = _state()
    for name, args, data in [
        ("coupon_create", [], {"code": "NEW1", "kind": "percent", "value": "5",
                               "scope": "basket"}),
        ("coupon_delete", [coupon.pk], {}),
        ("gift_cards", [], {"amount": "100"}),
        ("gift_card_detail", [card.pk], {"direction": "add", "amount": "100"}),
        ("gift_card_disable", [card.pk], {}),
    ]:
        assert support.post(_url(name, store, *args), data).status_code == 403, name
    assert _state() == before


ROUTES = [
    ("coupons", lambda s: []), ("coupon_create", lambda s: []),
    ("coupon_edit", lambda s: [make_coupon(s, "TGT").pk]),
    ("coupon_delete", lambda s: [make_coupon(s, "TGT2").pk]),
    ("sales", lambda s: []), ("sale_create", lambda s: []),
    ("sale_edit", lambda s: [make_sale(s).pk]), ("sale_delete", lambda s: [make_sale(s).pk]),
    ("gift_cards", lambda s: []),
    ("gift_card_detail", lambda s: [make_gift_card(s).pk]),
    ("gift_card_disable", lambda s: [make_gift_card(s).pk]),
]


@pytest.mark.parametrize(("name", "args"), ROUTES, ids=[r[0] for r in ROUTES])
def test_an_outsider_gets_404_on_every_promotion_page_and_changes_nothing(store, name, args):
    outsider = _client(owner_of(make_shop(slug="outside")))
    ids = args(store)
    url = _url(name, store, *ids)
    before = _state()
    for call in (outsider.get, outsider.post):
        response = call(url, {"code": "HACK", "kind": "percent", "value": "99",
                              "scope": "basket", "amount": "999", "direction": "add",
                              "name": "x", "starts_at": "2020-01-01T00:00",
                              "ends_at": "2099-01-01T00:00", "all_products": "on"})
        assert response.status_code in (404, 405), (call, response.status_code)
        assert b"Target Store" not in response.content
    missing = outsider.get(reverse(f"dashboard:{name}", args=["no-such-store", *ids]))
    assert missing.status_code in (404, 405)
    assert _state() == before
