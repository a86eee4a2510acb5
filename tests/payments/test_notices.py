"""Gateway notices: recorded once, tolerant of order (the endpoint is in test_callback.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.utils import timezone

from shopkeep.events.models import Event
from shopkeep.payments.gateways.base import Notice
from shopkeep.payments.models import GatewayEvent
from shopkeep.payments.services import notice_receive
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    store = make_shop()
    return place_order(store, make_product(store))


def _paid(order, event_id="evt_1", **extra) -> Notice:
    return Notice(event_id=event_id, kind="payment.succeeded", occurred_at=timezone.now(),
                  reference=order.order_number, payment_id="pi_test_1", amount_minor=2999,
                  currency="USD", **extra)


def test_a_replayed_notice_is_a_no_op(order):
    assert notice_receive(store=order.store, gateway="sandbox", notice=_paid(order)) == \
        f"order {order.order_number} paid"
    assert notice_receive(store=order.store, gateway="sandbox", notice=_paid(order)) == "duplicate"
    assert Event.objects.filter(event_type="order.received").count() == 1
    assert GatewayEvent.objects.count() == 1


def test_a_second_success_with_another_id_does_not_pay_twice(order):
    notice_receive(store=order.store, gateway="sandbox", notice=_paid(order))
    assert notice_receive(store=order.store,
                          gateway="sandbox", notice=_paid(order, "evt_2")) == "already paid"
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_a_failure_after_the_success_is_ignored(order):
    notice_receive(store=order.store, gateway="sandbox", notice=_paid(order))
    failed = replace(_paid(order, "evt_3"), kind="payment.failed", error_code="card_declined")
    notice_receive(store=order.store, gateway="sandbox", notice=failed)
    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert not Event.objects.filter(event_type="payment.failed").exists()


def test_a_renewal_that_overtakes_the_first_payment_is_applied_after_it(order):
    start = timezone.now()
    end = start + timezone.timedelta(days=30)
    renewal = Notice(event_id="evt_r", kind="subscription.renewed", occurred_at=end,
                     reference=order.order_number, subscription_id="sub_test_1",
                     period_start=end, period_end=end + timezone.timedelta(days=30))
    assert notice_receive(store=order.store, gateway="sandbox", notice=renewal) == "deferred"
    assert not Subscription.objects.exists()
    notice_receive(store=order.store,
                   gateway="sandbox", notice=_paid(order, subscription_id="sub_test_1",
                                                   period_start=start, period_end=end))
    sub = Subscription.objects.get()
    assert sub.current_period_end == renewal.period_end
    assert GatewayEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert Event.objects.filter(event_type="subscription.renewed").count() == 1


def test_a_dispute_closed_before_it_opened_emits_both_events(order):
    notice_receive(store=order.store, gateway="sandbox", notice=_paid(order))
    closed = Notice(event_id="evt_d", kind="dispute.closed", occurred_at=timezone.now(),
                    reference=order.order_number, dispute_id="dp_1", dispute_status="won",
                    amount_minor=2999, currency="USD", dispute_reason="fraudulent")
    notice_receive(store=order.store, gateway="sandbox", notice=closed)
    assert Event.objects.filter(event_type="dispute.created").count() == 1
    assert Event.objects.filter(event_type="dispute.resolved").count() == 1
    opened = replace(closed, event_id="evt_d0", kind="dispute.created",
                     dispute_status="needs_response")
    notice_receive(store=order.store, gateway="sandbox", notice=opened)
    assert Event.objects.filter(event_type="dispute.created").count() == 1


def test_a_notice_about_an_unknown_subject_waits_and_is_not_applied_twice(order):
    renewal = Notice(event_id="evt_w", kind="subscription.renewed", occurred_at=timezone.now(),
                     reference=order.order_number, subscription_id="sub_unknown",
                     period_start=timezone.now(),
                     period_end=timezone.now() + timezone.timedelta(days=30))
    assert notice_receive(store=order.store, gateway="sandbox", notice=renewal) == "deferred"
    waiting = GatewayEvent.objects.get()
    assert waiting.processed_at is None and waiting.outcome.startswith("waiting")
    assert notice_receive(store=order.store, gateway="sandbox", notice=renewal) == "duplicate"
    # The order's payment (no subscription in it) does not make the renewal applicable.
    notice_receive(store=order.store, gateway="sandbox", notice=_paid(order))
    assert GatewayEvent.objects.filter(processed_at__isnull=True).count() == 1
    assert not Event.objects.filter(event_type="subscription.renewed").exists()


def test_a_dispute_close_then_open_leaves_one_resolved_dispute(order):
    from shopkeep.disputes.models import Dispute

    notice_receive(store=order.store, gateway="sandbox", notice=_paid(order))
    closed = Notice(event_id="evt_c", kind="dispute.closed", occurred_at=timezone.now(),
                    reference=order.order_number, dispute_id="dp_2", dispute_status="lost",
                    amount_minor=2999, currency="USD", dispute_reason="fraudulent")
    assert notice_receive(store=order.store, gateway="sandbox", notice=closed) == "dispute resolved"
    events = list(Event.objects.values_list("event_type", flat=True))
    assert events[-4:] == ["dispute.created", "order.updated", "dispute.resolved",
                           "order.updated"]
    opened = replace(closed, event_id="evt_o", kind="dispute.created",
                     dispute_status="needs_response")
    assert notice_receive(store=order.store, gateway="sandbox", notice=opened) == "dispute known"
    assert list(Event.objects.values_list("event_type", flat=True)) == events
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.net_amount_impact) == ("lost", -2999)
    order.refresh_from_db()
    assert order.status == "disputed"
