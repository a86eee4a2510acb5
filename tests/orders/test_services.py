"""The order state machine: stock holds, expiry, late and repeated payments, basket rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, OrderItem
from shopkeep.orders.services import (
    Line,
    order_cancel_unpaid,
    order_mark_paid,
    order_payment_failed,
    orders_expire_unpaid,
)
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.payments.gateways.base import Notice
from shopkeep.payments.gateways.sandbox import CARD_DECLINED, CARD_OK, SandboxGateway
from shopkeep.payments.models import SandboxCharge, SandboxSession
from shopkeep.payments.services import notice_receive
from shopkeep.stores.models import AuditLog
from tests.commerce import buyer, make_product, make_shop, pay, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


def _types(store=None) -> list[str]:
    """The commerce events so far, in order (the catalog's product.* rows left out)."""
    rows = Event.objects.filter(store=store) if store is not None else Event.objects.all()
    return list(rows.exclude(event_type__startswith="product.")
                .values_list("event_type", flat=True))


# A first order by a new buyer also registers the customer.
CREATED = ["customer.created", "order.created"]


def _stock(product) -> int:
    product.refresh_from_db()
    return product.stock_quantity


def _paid_notice(order, event_id: str, payment_id: str = "pi_test_1") -> Notice:
    return Notice(event_id=event_id, kind="payment.succeeded", occurred_at=timezone.now(),
                  reference=order.order_number, payment_id=payment_id,
                  amount_minor=2999, currency="USD")


def test_creating_an_order_holds_stock_and_emits_order_created_only(store):
    product = make_product(store, stock_enabled=True, stock_quantity=3)
    order = place_order(store, product, quantity=2)
    assert _stock(product) == 1
    assert (order.status, order.payment_status) == ("pending", "pending")
    assert order.reserved_until - order.created_at == timedelta(minutes=30)
    assert not order.stock_released and order.paid_at is None
    assert _types(store) == CREATED
    item = order.items.get()
    assert (item.quantity, item.unit_price, item.total) == (2, product.price, product.price * 2)


def test_expiry_gives_the_stock_back_once(store):
    product = make_product(store, stock_enabled=True, stock_quantity=3)
    order = place_order(store, product, quantity=2)
    assert orders_expire_unpaid(now=timezone.now() + timedelta(minutes=29)) == 0
    assert _stock(product) == 1 and _types(store) == CREATED
    assert orders_expire_unpaid(now=timezone.now() + timedelta(minutes=31)) == 1
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "cancelled")
    assert order.stock_released and order.reserved_until is None and order.cancelled_at
    assert list(order.items.values_list("delivery_status", flat=True)) == ["cancelled"]
    assert _stock(product) == 3
    assert _types(store) == [*CREATED, "order.updated"]
    # A second sweep finds nothing: the stock is released once only, no second event.
    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=2)) == 0
    assert _stock(product) == 3 and _types(store) == [*CREATED, "order.updated"]
    assert order_cancel_unpaid(order=order, reason="again") is False


def test_a_payment_after_expiry_is_honoured_and_takes_the_stock_again(
        store, django_capture_on_commit_callbacks):
    product = make_product(store, stock_enabled=True, stock_quantity=1)
    order = place_order(store, product)
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    assert _stock(product) == 1
    ok, _ = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok and (order.status, order.payment_status) == ("processing", "paid")
    assert order.cancelled_at is None and not order.stock_released
    assert _stock(product) == 0
    # The expiry cancelled the items; the money is taken, so they are delivered after all.
    assert list(order.items.values_list("delivery_status", flat=True)) == ["pending"]
    assert _types(store) == [*CREATED, "order.updated", "order.received",
                             "purchase.completed"]
    data = Event.objects.get(event_type="order.received").data
    assert data["items"][0]["delivery_status"] == "pending" and data["status"] == "processing"


def test_a_late_payment_never_drives_stock_below_zero(store, django_capture_on_commit_callbacks):
    product = make_product(store, stock_enabled=True, stock_quantity=1)
    late = place_order(store, product, email="late@example.com")
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    place_order(store, product, email="next@example.com")  # the released unit is sold again
    assert _stock(product) == 0
    pay(late, capture=django_capture_on_commit_callbacks)
    assert late.payment_status == "paid"
    assert _stock(product) == 0  # oversold by one, which the owner sees; never negative


def test_a_paid_order_does_not_expire(store, django_capture_on_commit_callbacks):
    product = make_product(store, stock_enabled=True, stock_quantity=1)
    order = place_order(store, product)
    pay(order, capture=django_capture_on_commit_callbacks)
    before = _types(store)
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=1)) == 0
    assert order_cancel_unpaid(order=order, reason="manual") is False
    order.refresh_from_db()
    assert order.status == "processing" and _stock(product) == 0 and _types(store) == before


def test_the_same_payment_notice_twice_emits_order_received_once(store):
    order = place_order(store, make_product(store))
    notice = _paid_notice(order, "evt_1")
    assert notice_receive(store=order.store,
                          gateway="sandbox", notice=notice) == f"order {order.order_number} paid"
    audits = AuditLog.objects.count()
    assert notice_receive(store=order.store, gateway="sandbox", notice=notice) == "duplicate"
    assert _types(store) == [*CREATED, "order.received", "purchase.completed"]
    assert AuditLog.objects.count() == audits


def test_a_second_payment_with_another_event_id_does_not_pay_twice(store):
    order = place_order(store, make_product(store))
    notice_receive(store=order.store, gateway="sandbox", notice=_paid_notice(order, "evt_1"))
    order.refresh_from_db()
    paid_at = order.paid_at
    # The same payment reported again under a new event id: nothing at all.
    assert notice_receive(store=order.store,
                          gateway="sandbox", notice=_paid_notice(order, "evt_2")) == \
        "already paid"
    assert not AuditLog.objects.filter(action="order.duplicate_payment").exists()
    # A different payment for the same order (two checkout tabs): recorded for the owner.
    assert notice_receive(store=order.store, gateway="sandbox",
                          notice=_paid_notice(order, "evt_3", payment_id="pi_test_2")) == \
        "already paid"
    order.refresh_from_db()
    assert (order.paid_at, order.gateway_payment_id) == (paid_at, "pi_test_1")
    assert _types(store) == [*CREATED, "order.received", "purchase.completed"]
    assert AuditLog.objects.filter(action="order.duplicate_payment").count() == 1


def test_a_second_checkout_closes_the_first_payment_page(
        store, django_capture_on_commit_callbacks):
    order = place_order(store, make_product(store))
    checkout_start(order=order, success_url="/ok", cancel_url="/no")  # a second tab
    sessions = list(SandboxSession.objects.filter(reference=order.order_number)
                    .order_by("created_at"))
    assert [s.status for s in sessions] == ["expired", "open"]
    with django_capture_on_commit_callbacks(execute=True):
        assert not SandboxGateway().pay(session_id=sessions[0].pk, card_number=CARD_OK)[0]
        assert SandboxGateway().pay(session_id=sessions[1].pk, card_number=CARD_OK)[0]
    assert SandboxCharge.objects.count() == 1
    assert _types(store).count("order.received") == 1
    assert not AuditLog.objects.filter(action="order.duplicate_payment").exists()


def test_a_failure_after_the_success_changes_nothing(store):
    order = place_order(store, make_product(store))
    notice_receive(store=order.store, gateway="sandbox", notice=_paid_notice(order, "evt_1"))
    before = _types(store)
    failed = replace(_paid_notice(order, "evt_2"), kind="payment.failed",
                     error_code="card_declined")
    assert notice_receive(store=order.store, gateway="sandbox", notice=failed) == "ignored"
    assert order_payment_failed(store=order.store,
                                order_number=order.order_number, gateway="sandbox",
                                error_code="card_declined", error_message="",
                                failed_at=timezone.now()) is None
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert _types(store) == before


def test_a_declined_card_leaves_the_order_open_for_another_try(
        store, django_capture_on_commit_callbacks):
    product = make_product(store, stock_enabled=True, stock_quantity=1)
    order = place_order(store, product)
    ok, message = pay(order, CARD_DECLINED, capture=django_capture_on_commit_callbacks)
    assert not ok and "declined" in message
    assert (order.status, order.payment_status) == ("pending", "failed")
    assert _stock(product) == 0  # still held for the retry
    ok, _ = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok and (order.status, order.payment_status) == ("processing", "paid")
    assert _types(store) == [*CREATED, "payment.failed", "order.received",
                             "purchase.completed"]


def test_a_payment_through_another_gateway_name_is_not_applied(store):
    order = place_order(store, make_product(store))
    assert order_mark_paid(store=order.store, order_number=order.order_number, gateway="stripe",
                           payment_id="pi_x", paid_at=timezone.now()) is None
    order.refresh_from_db()
    assert order.paid_at is None and _types(store) == CREATED


def test_out_of_stock_refuses_the_order_and_writes_nothing(store):
    product = make_product(store, stock_enabled=True, stock_quantity=1)
    other = make_product(store, name="Kit", stock_enabled=True, stock_quantity=5)
    audits = AuditLog.objects.count()
    with pytest.raises(Conflict) as exc:
        order_create(store=store, lines=[Line(other.pk, 2), Line(product.pk, 2)],
                     customer=buyer())
    assert exc.value.code == "out_of_stock"
    assert not Order.objects.exists() and _types() == []
    assert AuditLog.objects.count() == audits
    assert _stock(product) == 1 and _stock(other) == 5  # the first hold rolled back too


@pytest.mark.parametrize("quantities,code", [
    ([], "empty_basket"),
    ([0], "invalid_quantity"),
    ([-1], "invalid_quantity"),
    ([100], "invalid_quantity"),
    ([50, 50], "invalid_quantity"),  # two lines of one product are merged before the check
])
def test_quantity_bounds(store, quantities, code):
    product = make_product(store)
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(product.pk, q) for q in quantities],
                     customer=buyer())
    assert exc.value.code == code
    assert not Order.objects.exists() and _types() == []


def test_the_largest_quantities_are_accepted_and_lines_merged(store):
    product = make_product(store, price="1.00")
    order = order_create(store=store, lines=[Line(product.pk, 90), Line(product.pk, 9)],
                         customer=buyer())
    item = order.items.get()
    assert item.quantity == 99 and order.total == 99


def test_at_most_twenty_products_in_a_basket(store):
    products = [make_product(store, name=f"Item {n}", price="1.00") for n in range(21)]
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(p.pk) for p in products], customer=buyer())
    assert exc.value.code == "too_many_items"
    order = order_create(store=store, lines=[Line(p.pk) for p in products[:20]],
                         customer=buyer())
    assert order.items.count() == 20


@pytest.mark.parametrize("lines", ["with another product", "two of it"])
def test_a_subscription_is_bought_alone_and_once(store, lines):
    monthly = make_product(store, name="Monthly", type="subscription", billing_interval="month")
    other = make_product(store, name="Kit")
    basket = ([Line(monthly.pk), Line(other.pk)] if lines == "with another product"
              else [Line(monthly.pk, 2)])
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=basket, customer=buyer())
    assert exc.value.code == "subscription_alone"
    assert not Order.objects.exists() and _types() == []


def test_products_of_another_store_or_off_sale_are_refused(store):
    foreign = make_product(make_shop(), name="Foreign")
    hidden = make_product(store, name="Hidden", is_active=False)
    own = make_product(store, name="Own")
    events = _types()
    for product in (foreign, hidden):
        with pytest.raises(ServiceError) as exc:
            order_create(store=store, lines=[Line(own.pk), Line(product.pk)], customer=buyer())
        assert exc.value.code == "product_unavailable"
    assert not Order.objects.exists() and _types() == events


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_store_that_is_not_active_takes_no_orders(store, status):
    from shopkeep.stores.models import Store

    if status not in Store.Status.values:
        pytest.skip(f"no store status {status!r}")
    product = make_product(store)
    store.status = status
    store.save()
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(product.pk)], customer=buyer())
    assert exc.value.code == "store_closed"
    assert not Order.objects.exists() and _types(store) == []


def test_yen_orders_have_no_minor_units(django_capture_on_commit_callbacks):
    store = make_shop(currency="JPY")
    product = make_product(store, price="1500")
    order = place_order(store, product, quantity=3)
    assert order.total == 4500 and order.currency == "JPY"
    # The gateway is asked for 4500 yen, not 450000.
    assert SandboxSession.objects.get(reference=order.order_number).amount_minor == 4500
    data = Event.objects.get(event_type="order.created").data
    assert (data["total"], data["subtotal"], data["tax"]) == ("4500", "4500", "0")
    assert (data["items"][0]["unit_price"], data["items"][0]["total"]) == ("1500", "4500")
    pay(order, capture=django_capture_on_commit_callbacks)
    assert SandboxCharge.objects.get().amount_minor == 4500
    assert Event.objects.get(event_type="order.received").data["total"] == "4500"


def test_an_order_item_keeps_its_snapshot_when_the_product_changes(store):
    product = make_product(store, price="10.00")
    order = place_order(store, product)
    product.name, product.price = "Renamed", "99.00"
    product.save()
    item = OrderItem.objects.get(order=order)
    assert (item.product_name, str(item.unit_price)) == ("VIP Rank", "10.00")
