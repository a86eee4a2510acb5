"""Gateway notices: recorded once, tolerant of order; the callback endpoint checks signatures."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from django.utils import timezone

from shopkeep.events.models import Event
from shopkeep.payments.gateways.base import Notice
from shopkeep.payments.gateways.sandbox import notice_to_json, sign
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
    assert notice_receive(gateway="sandbox", notice=_paid(order)) == \
        f"order {order.order_number} paid"
    assert notice_receive(gateway="sandbox", notice=_paid(order)) == "duplicate"
    assert Event.objects.filter(event_type="order.received").count() == 1
    assert GatewayEvent.objects.count() == 1


def test_a_second_success_with_another_id_does_not_pay_twice(order):
    notice_receive(gateway="sandbox", notice=_paid(order))
    assert notice_receive(gateway="sandbox", notice=_paid(order, "evt_2")) == "already paid"
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_a_failure_after_the_success_is_ignored(order):
    notice_receive(gateway="sandbox", notice=_paid(order))
    failed = replace(_paid(order, "evt_3"), kind="payment.failed", error_code="card_declined")
    notice_receive(gateway="sandbox", notice=failed)
    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert not Event.objects.filter(event_type="payment.failed").exists()


def test_a_renewal_that_overtakes_the_first_payment_is_applied_after_it(order):
    start = timezone.now()
    end = start + timezone.timedelta(days=30)
    renewal = Notice(event_id="evt_r", kind="subscription.renewed", occurred_at=end,
                     reference=order.order_number, subscription_id="sub_test_1",
                     period_start=end, period_end=end + timezone.timedelta(days=30))
    assert notice_receive(gateway="sandbox", notice=renewal) == "deferred"
    assert not Subscription.objects.exists()
    notice_receive(gateway="sandbox", notice=_paid(order, subscription_id="sub_test_1",
                                                   period_start=start, period_end=end))
    sub = Subscription.objects.get()
    assert sub.current_period_end == renewal.period_end
    assert GatewayEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert Event.objects.filter(event_type="subscription.renewed").count() == 1


def test_a_dispute_closed_before_it_opened_emits_both_events(order):
    notice_receive(gateway="sandbox", notice=_paid(order))
    closed = Notice(event_id="evt_d", kind="dispute.closed", occurred_at=timezone.now(),
                    reference=order.order_number, dispute_id="dp_1", dispute_status="won",
                    amount_minor=2999, currency="USD", dispute_reason="fraudulent")
    notice_receive(gateway="sandbox", notice=closed)
    assert Event.objects.filter(event_type="dispute.created").count() == 1
    assert Event.objects.filter(event_type="dispute.resolved").count() == 1
    opened = replace(closed, event_id="evt_d0", kind="dispute.created",
                     dispute_status="needs_response")
    notice_receive(gateway="sandbox", notice=opened)
    assert Event.objects.filter(event_type="dispute.created").count() == 1


def _post(client, body: bytes, signature: str):
    return client.post("/pay/callbacks/sandbox/", data=body, content_type="application/json",
                       HTTP_SANDBOX_SIGNATURE=signature)


def test_the_callback_accepts_a_signed_notice_once(client, order):
    body = notice_to_json(_paid(order))
    signature = sign(body, int(time.time()))
    assert _post(client, body, signature).json()["outcomes"] == [
        f"order {order.order_number} paid"]
    assert _post(client, body, signature).json()["outcomes"] == ["duplicate"]


@pytest.mark.parametrize("how", ["unsigned", "tampered", "old", "other key"])
def test_the_callback_refuses_bad_signatures_and_writes_nothing(client, order, how):
    body = notice_to_json(_paid(order))
    now = int(time.time())
    signature = {"unsigned": "", "tampered": sign(body + b" ", now),
                 "old": sign(body, now - 3600),
                 "other key": f"t={now},v1={'0' * 64}"}[how]
    response = _post(client, body, signature)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_callback"
    assert not GatewayEvent.objects.exists()
    order.refresh_from_db()
    assert order.paid_at is None


def test_the_callback_refuses_huge_bodies(client, order):
    body = json.dumps({"pad": "x" * 300_000}).encode()
    assert _post(client, body, sign(body, int(time.time()))).status_code == 413
