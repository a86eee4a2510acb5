"""Refunds: amounts, in-flight accounting, exactly-once at the gateway, failures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.orders.refunds import refund_execute, refund_request
from shopkeep.payments.models import SandboxCharge, SandboxRefund
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


def test_a_full_refund_cancels_undelivered_items(store, order):
    refund = _refund(store, order)
    assert refund.amount == Decimal("29.99")
    refund_execute(refund_id=refund.pk)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("refunded", "refunded")
    assert list(order.items.values_list("delivery_status", flat=True)) == [
        OrderItem.DeliveryStatus.CANCELLED]


def test_refunds_in_flight_count_against_what_is_left(store, order):
    _refund(store, order, "20.00")
    with pytest.raises(ServiceError) as exc:
        _refund(store, order, "10.00")
    assert exc.value.code == "amount_too_large"
    assert Refund.objects.count() == 1


def test_executing_a_refund_twice_refunds_once_at_the_gateway(store, order):
    refund = _refund(store, order, "5.00")
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    assert refund_execute(refund_id=refund.pk) == "nothing to do"
    # A worker that died after the gateway call and runs the refund again:
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.PENDING)
    Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("0"))
    refund_execute(refund_id=refund.pk)
    assert SandboxRefund.objects.count() == 1
    assert SandboxCharge.objects.get().refunded_minor == 500


def test_a_gateway_refusal_fails_the_refund_and_leaves_the_order(store, order):
    refund = _refund(store, order, "5.00")
    SandboxCharge.objects.update(refunded_minor=2999)  # refunded elsewhere meanwhile
    assert refund_execute(refund_id=refund.pk) == "failed"
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == "failed" and "amount_too_large" in refund.error
    assert order.status == "processing" and order.refunded_amount == 0
    assert not Event.objects.filter(event_type="order.refunded").exists()


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
