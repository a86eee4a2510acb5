"""Refunds: amounts, in-flight accounting, exactly-once at the gateway, failures."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import timezone

from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.core.timefmt import iso
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.orders.refunds import refund_fail
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.payments.gateways.base import Notice
from shopkeep.payments.models import SandboxCharge, SandboxRefund
from shopkeep.payments.services import notice_receive
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Role
from tests.commerce import make_product, make_shop, paid_order, place_order
from tests.factories import add_member, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def order(store, django_capture_on_commit_callbacks):
    return paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)


def _refund(store, order, amount=None, actor=None):
    return refund_request(store=store, actor=actor or Actor.for_user(owner_of(store)),
                          order=order, amount=amount, reason="test")


def _types(store) -> list[str]:
    return list(Event.objects.filter(store=store).values_list("event_type", flat=True))


def test_a_full_refund_cancels_undelivered_items(store, order):
    before = _types(store)
    refund = _refund(store, order)
    assert (refund.amount, refund.status) == (Decimal("29.99"), "pending")
    assert _types(store) == before  # nothing is announced before the money moved
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.gateway_refund_id.startswith("re_test_")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("refunded", "refunded")
    assert order.refunded_amount == order.total
    assert list(order.items.values_list("delivery_status", flat=True)) == [
        OrderItem.DeliveryStatus.CANCELLED]
    assert _types(store) == [*before, "order.refunded", "order.updated"]
    assert SandboxCharge.objects.get().refunded_minor == 2999
    with pytest.raises(Conflict) as exc:
        _refund(store, order)
    assert exc.value.code == "not_refundable"


def test_partial_refunds_add_up_to_a_full_one(store, order):
    first = _refund(store, order, "10.00")
    refund_execute(refund_id=first.pk)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("partially_refunded", "partially_refunded")
    assert order.refunded_amount == Decimal("10.00")
    assert list(order.items.values_list("delivery_status", flat=True)) == ["pending"]
    rest = _refund(store, order)  # no amount: what is left
    assert rest.amount == Decimal("19.99")
    refund_execute(refund_id=rest.pk)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("refunded", "refunded")
    assert SandboxCharge.objects.get().refunded_minor == 2999
    amounts = [e.data["refund_amount"] for e in
               Event.objects.filter(event_type="order.refunded").order_by("id")]
    assert amounts == ["10.00", "19.99"]


def test_a_refund_larger_than_what_is_left_is_refused(store, order):
    with pytest.raises(ServiceError) as exc:
        _refund(store, order, "30.00")
    assert exc.value.code == "amount_too_large"
    refund_execute(refund_id=_refund(store, order, "29.00").pk)
    with pytest.raises(ServiceError) as exc:
        _refund(store, order, "1.00")
    assert exc.value.code == "amount_too_large"
    assert Refund.objects.count() == 1 and SandboxRefund.objects.count() == 1
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("29.00")


def test_the_refunded_event_carries_the_refund(store, order):
    refund = _refund(store, order, "10.00")
    refund_execute(refund_id=refund.pk)
    refund.refresh_from_db()
    data = Event.objects.get(event_type="order.refunded").data
    assert data == {
        "id": order.pk, "order_number": order.order_number,
        "customer_email": "player@example.com", "customer_name": "John Doe",
        "refund_amount": "10.00", "original_total": "29.99", "currency": "USD",
        "status": "partially_refunded", "payment_status": "partially_refunded",
        "reason": "test", "refunded_at": iso(refund.settled_at)}
    updated = Event.objects.filter(event_type="order.updated").latest("id").data
    assert updated["status"] == "partially_refunded" and updated["order_number"] == \
        order.order_number


def test_refunds_in_flight_count_against_what_is_left(store, order):
    _refund(store, order, "20.00")
    with pytest.raises(ServiceError) as exc:
        _refund(store, order, "10.00")
    assert exc.value.code == "amount_too_large"
    assert _refund(store, order).amount == Decimal("9.99")  # the rest, while 20.00 is pending
    with pytest.raises(Conflict) as exc:
        _refund(store, order, "0.01")
    assert exc.value.code == "nothing_left"
    assert Refund.objects.count() == 2 and not SandboxRefund.objects.exists()


def test_a_failed_refund_frees_its_amount_again(store, order):
    refund = _refund(store, order, "20.00")
    SandboxCharge.objects.update(currency="EUR")  # the gateway will refuse it
    assert refund_execute(refund_id=refund.pk) == "failed"
    SandboxCharge.objects.update(currency="USD")
    assert _refund(store, order).amount == Decimal("29.99")


def test_executing_a_refund_twice_refunds_once_at_the_gateway(store, order):
    refund = _refund(store, order, "5.00")
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    assert refund_execute(refund_id=refund.pk) == "nothing to do"
    # A worker that died after the gateway call and runs the refund again:
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.PENDING)
    Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("0"))
    before = _types(store)
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    assert SandboxRefund.objects.count() == 1
    assert SandboxCharge.objects.get().refunded_minor == 500
    assert _types(store) == [*before, "order.refunded", "order.updated"]  # re-settled locally


def test_a_gateway_refusal_fails_the_refund_and_leaves_the_order(store, order):
    refund = _refund(store, order, "5.00")
    SandboxCharge.objects.update(refunded_minor=2999)  # refunded elsewhere meanwhile
    before = (list(Order.objects.values()), _types(store))
    assert refund_execute(refund_id=refund.pk) == "failed"
    refund.refresh_from_db()
    assert refund.status == "failed" and "amount_too_large" in refund.error
    assert refund.settled_at is not None and not refund.gateway_refund_id
    assert (list(Order.objects.values()), _types(store)) == before
    assert not SandboxRefund.objects.exists()
    assert refund_execute(refund_id=refund.pk) == "nothing to do"
    assert refund_fail(refund_id=refund.pk, error="again") is None


def test_unpaid_orders_and_support_members_cannot_refund(store):
    unpaid = place_order(store, make_product(store, name="Other"))
    with pytest.raises(Conflict):
        _refund(store, unpaid)
    paid_like = unpaid
    support = Actor.for_user(add_member(store, Role.SUPPORT).user)
    with pytest.raises(PermissionDenied):
        _refund(store, paid_like, actor=support)
    assert not Refund.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "1.001", "1e3"])
def test_bad_amounts_are_refused(store, order, amount):
    with pytest.raises(ServiceError):
        _refund(store, order, amount)
    assert not Refund.objects.exists()


def test_a_refund_made_at_the_gateway_is_recorded_once(store, order):
    notice = Notice(event_id="evt_re_1", kind="refund.succeeded", occurred_at=timezone.now(),
                    reference=order.order_number, payment_id="re_dashboard_1",
                    amount_minor=500, currency="USD")
    assert notice_receive(store=order.store, gateway="sandbox", notice=notice) == "refund recorded"
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.requested_by) == (
        Decimal("5.00"), "succeeded", "sandbox")
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("5.00") and order.status == "partially_refunded"
    before = _types(store)
    assert notice_receive(store=order.store,
                          gateway="sandbox", notice=replace(notice, event_id="evt_re_2")) == \
        "refund already known"
    assert Refund.objects.count() == 1 and _types(store) == before
