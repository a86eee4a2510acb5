"""Tax: inclusive and exclusive prices, rates by billing country and region, reverse charge."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopkeep.core.errors import ServiceError
from shopkeep.customers.services import CustomerInput
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, TaxRate
from shopkeep.orders.services import Line, order_quote
from shopkeep.orders.tax import tax_rate_set, tax_rates_load_eu, tax_settings_set
from shopkeep.payments.flows import order_create
from tests.commerce import make_product, make_shop
from tests.promotions.helpers import make_coupon, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    store = make_shop(currency="EUR")
    tax_rates_load_eu(store=store, actor=owner(store))
    return store


@pytest.fixture
def product(store):
    return make_product(store, price="12.00")


def _buy(store, product, country="DE", vat_number="", **kwargs):
    return order_create(store=store, lines=[Line(product.pk, 1)], customer=CustomerInput(
        email="b@example.com", player_name="Steve", country=country), vat_number=vat_number,
        **kwargs)


def test_the_eu_table_is_loaded_as_editable_rows(store):
    assert TaxRate.objects.filter(store=store).count() == 27
    assert TaxRate.objects.get(store=store, country="DE").rate == Decimal("19")
    tax_rate_set(store=store, actor=owner(store), country="de", rate="7", label="MwSt")
    assert TaxRate.objects.get(store=store, country="DE").rate == Decimal("7")
    assert tax_rates_load_eu(store=store, actor=owner(store)) == 0  # edits are kept


def test_without_tax_enabled_nothing_changes(store, product):
    order = _buy(store, product)
    assert (order.tax, order.total) == (Decimal("0"), Decimal("12.00"))


def test_inclusive_prices_show_the_tax_they_contain_and_the_payload_carries_it(
        store, product):
    tax_settings_set(store=store, actor=owner(store), enabled=True, prices_include_tax=True,
                     home_country="DE")
    order = _buy(store, product)
    # 12.00 including 19%: 10.08 net, 1.92 tax.
    assert (order.subtotal, order.tax, order.total, order.tax_rate) == (
        Decimal("12.00"), Decimal("1.92"), Decimal("12.00"), Decimal("19"))
    data = Event.objects.get(event_type="order.created").data
    assert (data["subtotal"], data["tax"], data["total"]) == ("12.00", "1.92", "12.00")
    assert data["metadata"]["pricing"]["tax_inclusive"] is True


def test_exclusive_prices_add_the_tax_after_the_coupon(store, product):
    tax_settings_set(store=store, actor=owner(store), enabled=True, prices_include_tax=False)
    make_coupon(store, "TEN", kind="fixed", value="2")
    order = _buy(store, product, country="FR", coupon_code="TEN")
    assert (order.subtotal, order.discount, order.tax, order.total) == (
        Decimal("12.00"), Decimal("2.00"), Decimal("2.00"), Decimal("12.00"))
    assert order.tax_country == "FR"


def test_a_region_rate_beats_the_country_rate(store, product):
    tax_settings_set(store=store, actor=owner(store), enabled=True, prices_include_tax=False)
    tax_rate_set(store=store, actor=owner(store), country="US", rate="0", label="Sales tax")
    tax_rate_set(store=store, actor=owner(store), country="US", region="CA", rate="7.25",
                 label="Sales tax")
    quote = order_quote(store=store, lines=[Line(product.pk, 1)], country="US", region="ca")
    assert (quote.tax, quote.total, quote.tax_label) == (Decimal("0.87"), Decimal("12.87"),
                                                         "Sales tax")
    quote = order_quote(store=store, lines=[Line(product.pk, 1)], country="US", region="NY")
    assert quote.tax == Decimal("0.00")


def test_a_valid_eu_vat_number_from_another_country_gets_the_reverse_charge(store, product):
    tax_settings_set(store=store, actor=owner(store), enabled=True, prices_include_tax=True,
                     home_country="FR")
    order = _buy(store, product, country="DE", vat_number="DE 136 695 976")
    assert (order.reverse_charge, order.tax, order.total, order.vat_number) == (
        True, Decimal("0"), Decimal("10.08"), "DE136695976")
    same = _buy(store, product, country="FR", vat_number="FR40303265045")
    assert not same.reverse_charge and same.tax == Decimal("2.00")


def test_a_malformed_vat_number_is_refused_and_writes_nothing(store, product):
    tax_settings_set(store=store, actor=owner(store), enabled=True, prices_include_tax=True)
    with pytest.raises(ServiceError) as exc:
        _buy(store, product, vat_number="DE123")
    assert exc.value.code == "invalid_vat_number" and not Order.objects.exists()


@pytest.mark.parametrize(("fields", "code"), [
    ({"country": "Germany"}, "invalid_country"), ({"rate": "101"}, "invalid_rate"),
    ({"rate": "-1"}, "invalid_rate"), ({"rate": "abc"}, "invalid_rate"),
    ({"rate": "NaN"}, "invalid_rate"), ({"region": "<x>"}, "invalid_region")])
def test_hostile_rates_are_refused(store, fields, code):
    before = TaxRate.objects.count()
    with pytest.raises(ServiceError) as exc:
        tax_rate_set(store=store, actor=owner(store), **{"country": "DE", "rate": "5",
                                                         **fields})
    assert exc.value.code == code and TaxRate.objects.count() == before


def _api(client, store, scopes):
    from tests.factories import make_token

    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(store, scopes)[1]}"}


def test_the_tax_api_sets_settings_and_rates(client, store):
    auth = _api(client, store, ["store:write"])
    put = client.put("/api/v1/tax", {"enabled": True, "prices_include_tax": False,
                                     "home_country": "de"}, content_type="application/json",
                     **auth)
    assert put.status_code == 200 and put.json()["home_country"] == "DE"
    created = client.post("/api/v1/tax/rates", {"country": "US", "region": "TX",
                                                "rate": "6.25", "label": "Sales tax"},
                          content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["rate"] == "6.25"
    rates = client.get("/api/v1/tax/rates", **auth).json()
    assert len(rates) == 28
    bad = client.post("/api/v1/tax/rates", {"country": "US", "rate": "1e9"},
                      content_type="application/json", **auth)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_another_stores_token_sees_and_changes_no_tax_here(client, store):
    outsider = _api(client, make_shop(), ["store:write"])
    rate = TaxRate.objects.filter(store=store).first()
    assert client.get("/api/v1/tax/rates", **outsider).json() == []
    assert client.delete(f"/api/v1/tax/rates/{rate.pk}", **outsider).status_code == 404
    assert TaxRate.objects.filter(pk=rate.pk).exists()
    client.put("/api/v1/tax", {"enabled": True, "prices_include_tax": True},
               content_type="application/json", **outsider)
    from shopkeep.orders.models import TaxSettings

    assert not TaxSettings.objects.filter(store=store).exists()
