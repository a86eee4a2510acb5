"""Coupons: every reason a code does not apply, uses counted, uses given back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopkeep.core.errors import ServiceError
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line, order_cancel_unpaid, order_quote
from shopkeep.payments.flows import order_create
from shopkeep.promotions.models import Coupon, CouponRedemption
from shopkeep.promotions.services import CouponInput, coupon_update
from shopkeep.stores.models import AuditLog
from tests.commerce import buyer, make_product, make_shop, paid_order
from tests.promotions.helpers import make_coupon, make_sale, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def product(store):
    return make_product(store, price="20.00")


def _order(store, product, code, *, email="player@example.com", quantity=1):
    return order_create(store=store, lines=[Line(product.pk, quantity)],
                        customer=buyer(email), coupon_code=code)


def test_a_percent_coupon_lowers_the_total_and_counts_one_use(store, product):
    coupon = make_coupon(store, "save10")
    order = _order(store, product, "Save10", quantity=2)
    assert (order.subtotal, order.discount, order.total) == (
        Decimal("40.00"), Decimal("4.00"), Decimal("36.00"))
    assert order.coupon_code == "SAVE10"
    coupon.refresh_from_db()
    assert coupon.uses_count == 1
    assert CouponRedemption.objects.get().order_number == order.order_number
    # The items keep what they cost; the discount is the order's.
    assert [i.total for i in order.items.all()] == [Decimal("40.00")]


def test_codes_are_matched_whatever_their_case_and_spaces(store, product):
    make_coupon(store, "WINTER-24", kind="fixed", value="5")
    quote = order_quote(store=store, lines=[Line(product.pk, 1)], coupon_code=" winter-24 ")
    assert (quote.discount, quote.total, quote.coupon_message) == (
        Decimal("5.00"), Decimal("15.00"), "")


def test_a_fixed_coupon_never_discounts_more_than_the_basket(store):
    cheap = make_product(store, name="Cheap", price="3.00")
    make_coupon(store, "BIG", kind="fixed", value="2.50")
    quote = order_quote(store=store, lines=[Line(cheap.pk, 1)], coupon_code="BIG")
    assert quote.total == Decimal("0.50")


@pytest.mark.parametrize(("fields", "message"), [
    ({"ends_at": timezone.now() - timedelta(minutes=1)}, "has expired"),
    ({"starts_at": timezone.now() + timedelta(hours=1)}, "not valid yet"),
    ({"min_basket": "50"}, "needs a basket of at least 50.00 USD"),
    ({"is_active": False}, "is not valid here"),
])
def test_each_reason_a_code_does_not_apply_is_named(store, product, fields, message):
    make_coupon(store, "NOPE", **fields)
    quote = order_quote(store=store, lines=[Line(product.pk, 1)], coupon_code="NOPE")
    assert message in quote.coupon_message
    assert (quote.discount, quote.total) == (Decimal("0"), Decimal("20.00"))
    with pytest.raises(ServiceError, match=message):
        _order(store, product, "NOPE")
    assert not Order.objects.exists()


def test_an_unknown_code_is_refused_and_nothing_is_written(store, product):
    with pytest.raises(ServiceError) as exc:
        _order(store, product, "GHOST")
    assert exc.value.code == "coupon_unknown" and exc.value.field == "coupon_code"
    assert not Order.objects.exists()
    product.refresh_from_db()


def test_a_product_scoped_coupon_discounts_only_its_products(store, product):
    other = make_product(store, name="Other", price="10.00")
    make_coupon(store, "ONLY", scope="products", product_ids=[other.pk], value="50")
    quote = order_quote(store=store, lines=[Line(product.pk, 1), Line(other.pk, 1)],
                        coupon_code="ONLY")
    assert (quote.discount, quote.total) == (Decimal("5.00"), Decimal("25.00"))
    quote = order_quote(store=store, lines=[Line(product.pk, 1)], coupon_code="ONLY")
    assert "does not cover anything" in quote.coupon_message


def test_a_category_scoped_coupon(store):
    from shopkeep.catalog.services import category_create

    ranks = category_create(store=store, actor=owner(store), name="Ranks")
    rank = make_product(store, name="Rank", price="10.00", category_id=ranks.pk)
    other = make_product(store, name="Key", price="10.00")
    make_coupon(store, "RANKS", scope="categories", category_ids=[ranks.pk], value="10")
    quote = order_quote(store=store, lines=[Line(rank.pk, 1), Line(other.pk, 1)],
                        coupon_code="RANKS")
    assert quote.discount == Decimal("1.00")


def test_a_coupon_that_does_not_combine_with_sales_skips_sale_lines(store, product):
    other = make_product(store, name="Other", price="10.00")
    make_sale(store, product_ids=[product.pk], value="50")
    make_coupon(store, "NOSALE", value="10", combines_with_sales=False)
    quote = order_quote(store=store, lines=[Line(product.pk, 1), Line(other.pk, 1)],
                        coupon_code="NOSALE")
    assert (quote.subtotal, quote.discount) == (Decimal("20.00"), Decimal("1.00"))
    quote = order_quote(store=store, lines=[Line(product.pk, 1)], coupon_code="NOSALE")
    assert "does not combine with sale prices" in quote.coupon_message


def test_the_last_use_goes_to_one_order_and_the_next_is_refused(store, product):
    coupon = make_coupon(store, "ONCE", max_uses=1)
    _order(store, product, "ONCE", email="a@example.com")
    with pytest.raises(ServiceError, match="used up"):
        _order(store, product, "ONCE", email="b@example.com")
    coupon.refresh_from_db()
    assert coupon.uses_count == 1
    assert Order.objects.count() == 1


def test_uses_per_customer_are_counted_per_buyer(store, product):
    make_coupon(store, "MINE", max_uses_per_customer=1)
    _order(store, product, "MINE", email="a@example.com")
    with pytest.raises(ServiceError, match="already used"):
        _order(store, product, "MINE", email="a@example.com")
    _order(store, product, "MINE", email="b@example.com")
    assert Order.objects.count() == 2


def test_a_first_purchase_coupon_refuses_a_returning_buyer(
        store, product, django_capture_on_commit_callbacks):
    make_coupon(store, "WELCOME", first_purchase_only=True)
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    quote = order_quote(store=store, lines=[Line(product.pk, 1)], coupon_code="WELCOME",
                        email="player@example.com")
    assert "first purchase only" in quote.coupon_message
    with pytest.raises(ServiceError, match="first purchase only"):
        _order(store, product, "WELCOME")
    _order(store, product, "WELCOME", email="new@example.com")


def test_an_unpaid_order_that_expires_gives_its_use_back(store, product):
    coupon = make_coupon(store, "ONCE", max_uses=1)
    order = _order(store, product, "ONCE")
    assert order_cancel_unpaid(order=order, reason="test")
    coupon.refresh_from_db()
    assert coupon.uses_count == 0
    assert CouponRedemption.objects.get().released_at is not None
    assert not order_cancel_unpaid(order=order, reason="again")  # a second cancel: no change
    coupon.refresh_from_db()
    assert coupon.uses_count == 0
    _order(store, product, "ONCE", email="b@example.com")


def test_a_coupon_cannot_make_an_order_free(store, product):
    make_coupon(store, "ALL", value="100")
    with pytest.raises(ServiceError) as exc:
        _order(store, product, "ALL")
    assert exc.value.code == "nothing_to_pay"
    assert Coupon.objects.get().uses_count == 0


@pytest.mark.parametrize(("fields", "code"), [
    ({"code": "x"}, "invalid_code"),
    ({"code": "BAD CODE!"}, "invalid_code"),
    ({"value": "0"}, "invalid_value"),
    ({"value": "101"}, "invalid_value"),
    ({"value": "1e9"}, "invalid_value"),
    ({"kind": "bogus"}, "invalid_kind"),
    ({"scope": "products"}, "no_targets"),
    ({"product_ids": [999999]}, "unknown_product"),
    ({"max_uses": 0}, "invalid_limit"),
    ({"min_basket": "-1"}, "invalid_amount"),
])
def test_hostile_coupon_input_is_refused_and_writes_nothing(store, fields, code):
    data = {"code": "GOOD", "kind": "percent", "value": "10", **fields}
    before = AuditLog.objects.count()
    with pytest.raises(ServiceError) as exc:
        make_coupon(store, **data)
    assert exc.value.code == code
    assert not Coupon.objects.exists() and AuditLog.objects.count() == before


def test_a_code_is_unique_per_store_case_insensitively_but_free_in_another(store):
    make_coupon(store, "DUP")
    with pytest.raises(ServiceError) as exc:
        make_coupon(store, "dup")
    assert exc.value.code == "code_taken"
    make_coupon(make_shop(), "DUP")


def test_a_coupon_from_another_store_does_not_apply(store, product):
    make_coupon(make_shop(), "THEIRS")
    with pytest.raises(ServiceError) as exc:
        _order(store, product, "THEIRS")
    assert exc.value.code == "coupon_unknown"


def test_another_stores_product_cannot_be_targeted(store):
    foreign = make_product(make_shop(), name="Foreign")
    with pytest.raises(ServiceError) as exc:
        make_coupon(store, "X1X", scope="products", product_ids=[foreign.pk])
    assert exc.value.code == "unknown_product"


def test_max_uses_cannot_drop_below_the_uses_already_taken(store, product):
    coupon = make_coupon(store, "TWO", max_uses=5)
    _order(store, product, "TWO", email="a@example.com")
    _order(store, product, "TWO", email="b@example.com")
    with pytest.raises(ServiceError, match="used 2 times"):
        coupon_update(store=store, actor=owner(store), coupon=coupon,
                      data=CouponInput(code="TWO", kind="percent", value="10", max_uses=1))


def test_the_discount_is_in_the_order_payload_metadata_and_totals_stay_consistent(
        store, product, django_capture_on_commit_callbacks):
    from shopkeep.events.models import Event

    make_coupon(store, "SAVE10")
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks,
                       coupon_code="SAVE10")
    data = Event.objects.get(event_type="order.received").data
    assert (data["subtotal"], data["total"], data["tax"]) == ("20.00", "18.00", "0.00")
    assert data["items"][0]["unit_price"] == data["items"][0]["total"] == "20.00"
    assert data["metadata"]["pricing"]["discount"] == "2.00"
    assert data["metadata"]["pricing"]["coupon_code"] == "SAVE10"
    assert data["metadata"]["pricing"]["amount_charged"] == "18.00"
    from shopkeep.payments.models import SandboxCharge

    assert SandboxCharge.objects.get().amount_minor == 1800
    assert order.total == Decimal("18.00")
