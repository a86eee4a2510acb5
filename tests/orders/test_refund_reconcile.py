"""Refunds still pending after a few minutes are settled by asking the gateway.

The original failure: the worker died between the gateway's refund and the settlement; the
gateway had refunded, the order did not show it, no ``order.refunded`` was sent, nothing
retried. The reconciliation settles it from the gateway's books, once.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopkeep.events.models import Event
from shopkeep.orders.models import Order, Refund
from shopkeep.orders.refunds import refund_key
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.payments.gateways.sandbox import CARD_SLOW_REFUNDS, SandboxGateway
from shopkeep.payments.models import GatewayEvent, SandboxCharge, SandboxRefund
from shopkeep.payments.refund_reconcile import refunds_reconcile
from shopkeep.payments.services import notice_process
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, make_shop, paid_order, pay, place_order
from tests.factories import owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(django_capture_on_commit_callbacks):
    store = make_shop()
    return paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)


def _request(order, amount="10.00", minutes_ago=6) -> Refund:
    refund = refund_request(store=order.store, actor=Actor.for_user(owner_of(order.store)),
                            order=order, amount=amount, reason="test")
    Refund.objects.filter(pk=refund.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return refund


def _refunded_events(order) -> int:
    return Event.objects.filter(store=order.store, event_type="order.refunded").count()


def _gateway_refunds_then_the_worker_dies(order, refund: Refund) -> None:
    SandboxGateway().refund(payment_id=order.gateway_payment_id, amount_minor=1000,
                            currency="USD", reason="test", idempotency_key=refund_key(refund))


def test_a_refund_made_at_the_gateway_but_never_settled_is_settled_once(order):
    refund = _request(order)
    _gateway_refunds_then_the_worker_dies(order, refund)
    order.refresh_from_db()
    assert order.refunded_amount == 0 and _refunded_events(order) == 0  # the failure
    assert refunds_reconcile() == [f"refund {refund.pk}: settled from the gateway"]
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == "succeeded"
    assert refund.gateway_refund_id == SandboxRefund.objects.get().id
    assert order.refunded_amount == Decimal("10.00")  # the books equal the gateway's
    assert SandboxCharge.objects.get().refunded_minor == 1000
    assert _refunded_events(order) == 1
    assert refunds_reconcile() == []  # nothing left; nothing sent twice
    assert refund_execute(refund_id=refund.pk) == "nothing to do"
    assert _refunded_events(order) == 1 and SandboxRefund.objects.count() == 1


def test_a_refund_that_never_reached_the_gateway_is_executed_with_its_own_key(order):
    refund = _request(order)
    assert refunds_reconcile() == [f"refund {refund.pk}: not at the gateway, executed: "
                                   "succeeded"]
    assert SandboxRefund.objects.get().idempotency_key == refund_key(refund)
    assert _refunded_events(order) == 1


def test_young_pending_refunds_are_left_to_their_job(order):
    refund = _request(order, minutes_ago=2)
    assert refunds_reconcile() == []
    refund.refresh_from_db()
    assert refund.status == "pending" and not SandboxRefund.objects.exists()


def test_a_gateway_that_cannot_answer_leaves_the_refund_pending(order, monkeypatch):
    refund = _request(order)

    def down(self, **kwargs):
        raise GatewayError("gateway_unreachable", "down")

    monkeypatch.setattr(SandboxGateway, "refund_lookup", down)
    assert refunds_reconcile() == []
    refund.refresh_from_db()
    assert refund.status == "pending" and _refunded_events(order) == 0


def test_an_uncertain_gateway_error_leaves_the_refund_pending_for_reconciliation(order,
                                                                                monkeypatch):
    refund = _request(order, minutes_ago=0)

    def timeout(self, **kwargs):
        raise GatewayError("gateway_unreachable", "read timeout")  # did the money move?

    monkeypatch.setattr(SandboxGateway, "refund", timeout)
    assert refund_execute(refund_id=refund.pk) == "unknown at the gateway"
    refund.refresh_from_db()
    assert refund.status == "pending" and not refund.error
    monkeypatch.undo()
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    refunds_reconcile()
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("10.00")


@pytest.fixture
def slow(django_capture_on_commit_callbacks):
    """An order paid with the sandbox card whose refunds stay pending for a while."""
    store = make_shop()
    order = place_order(store, make_product(store))
    assert pay(order, CARD_SLOW_REFUNDS, capture=django_capture_on_commit_callbacks)[0]
    return order


def _settle_at_the_gateway(capture, *, notice: bool) -> int:
    later = timezone.now() + timedelta(seconds=31)
    with capture(execute=notice):
        return SandboxGateway().settle_slow_refunds(now=later)


def test_a_refund_the_gateway_reports_pending_is_settled_by_its_notice(
        slow, django_capture_on_commit_callbacks):
    refund = _request(slow, minutes_ago=0)
    assert refund_execute(refund_id=refund.pk) == "pending at the gateway"
    refund.refresh_from_db()
    assert refund.status == "pending" and refund.gateway_refund_id.startswith("re_test_")
    assert _refunded_events(slow) == 0
    assert _settle_at_the_gateway(django_capture_on_commit_callbacks, notice=True) == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded" and Refund.objects.count() == 1
    assert Order.objects.get(pk=slow.pk).refunded_amount == Decimal("10.00")
    assert _refunded_events(slow) == 1


def test_a_pending_refund_whose_notice_was_lost_is_settled_by_reconciliation(
        slow, django_capture_on_commit_callbacks):
    refund = _request(slow)
    # The worker died after the gateway answered "pending", before it stored the id:
    SandboxGateway().refund(payment_id=slow.gateway_payment_id, amount_minor=1000,
                            currency="USD", reason="test", idempotency_key=refund_key(refund))
    assert refunds_reconcile() == []  # still pending at the gateway: ask again later
    refund.refresh_from_db()
    assert refund.status == "pending" and refund.gateway_refund_id == SandboxRefund.objects.get().id
    _settle_at_the_gateway(django_capture_on_commit_callbacks, notice=False)  # notice lost
    assert refunds_reconcile() == [f"refund {refund.pk}: settled from the gateway"]
    assert _refunded_events(slow) == 1
    # The notice turns up after all (the worker applies it): nothing more happens.
    event = GatewayEvent.objects.get(kind="refund.succeeded")
    assert notice_process(event_id=event.pk) == "refund already settled"
    assert _refunded_events(slow) == 1 and Refund.objects.count() == 1
    assert Order.objects.get(pk=slow.pk).refunded_amount == Decimal("10.00")


def test_the_notice_settles_our_refund_by_its_key_even_when_its_id_was_never_stored(
        slow, django_capture_on_commit_callbacks):
    refund = _request(slow, minutes_ago=0)
    SandboxGateway().refund(payment_id=slow.gateway_payment_id, amount_minor=1000,
                            currency="USD", reason="test", idempotency_key=refund_key(refund))
    _settle_at_the_gateway(django_capture_on_commit_callbacks, notice=True)
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert Refund.objects.count() == 1  # not mistaken for a refund made elsewhere
    assert _refunded_events(slow) == 1
