"""The sandbox provider: test cards, its own books, idempotent refunds, its billing clock."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from shopkeep.core.errors import ServiceError
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.payments.gateways.base import CallbackRejected, GatewayError, Notice
from shopkeep.payments.gateways.sandbox import (
    CARD_DECLINED,
    CARD_NO_FUNDS,
    CARD_OK,
    SandboxGateway,
    notice_from_json,
    notice_to_json,
    sign,
)
from shopkeep.payments.models import (
    GatewayEvent,
    SandboxCharge,
    SandboxRefund,
    SandboxSession,
    SandboxSubscription,
)
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order, pay, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def order(store):
    return place_order(store, make_product(store))


def test_the_good_card_pays_and_closes_the_session(order, django_capture_on_commit_callbacks):
    assert pay(order, "4242 4242 4242 4242", capture=django_capture_on_commit_callbacks) == (
        True, "Payment succeeded.")
    charge = SandboxCharge.objects.get()
    assert (charge.amount_minor, charge.currency, charge.card_last4) == (2999, "USD", "4242")
    assert order.gateway_payment_id == charge.id and order.payment_status == "paid"
    session = SandboxSession.objects.get()
    assert session.status == "complete"
    # Paying a closed session again charges nothing and sends nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert SandboxGateway().pay(session_id=session.pk, card_number=CARD_OK) == (
            True, "This payment is closed.")
    assert callbacks == [] and SandboxCharge.objects.count() == 1


@pytest.mark.parametrize("card,code", [(CARD_DECLINED, "card_declined"),
                                       (CARD_NO_FUNDS, "insufficient_funds")])
def test_the_failing_cards_send_payment_failed_with_their_code(
        store, order, card, code, django_capture_on_commit_callbacks):
    ok, message = pay(order, card, capture=django_capture_on_commit_callbacks)
    assert not ok and message
    assert not SandboxCharge.objects.exists()
    assert SandboxSession.objects.get().status == "open"
    data = Event.objects.get(event_type="payment.failed").data
    assert (data["error_code"], data["error_message"]) == (code, message)
    assert order.payment_status == "failed" and order.paid_at is None


def test_an_unknown_card_is_refused_before_anything_happens(order,
                                                            django_capture_on_commit_callbacks):
    with pytest.raises(GatewayError) as exc:
        pay(order, "4111111111111111", capture=django_capture_on_commit_callbacks)
    assert exc.value.code == "invalid_card"
    assert not GatewayEvent.objects.exists() and not SandboxCharge.objects.exists()


def test_a_live_mode_order_is_refused_and_its_stock_released(store):
    product = make_product(store, stock_enabled=True, stock_quantity=2)
    store.test_mode = False
    store.save()
    with pytest.raises(ServiceError) as exc:
        place_order(store, product)
    assert exc.value.code == "gateway_error"
    order = Order.objects.get()
    assert order.status == "cancelled" and not SandboxSession.objects.exists()
    product.refresh_from_db()
    assert product.stock_quantity == 2


def test_a_refund_with_the_same_key_is_made_once(store, django_capture_on_commit_callbacks):
    order = paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)
    sandbox = SandboxGateway()
    first = sandbox.refund(payment_id=order.gateway_payment_id, amount_minor=500,
                           currency="USD", reason="", idempotency_key="k1")
    again = sandbox.refund(payment_id=order.gateway_payment_id, amount_minor=500,
                           currency="USD", reason="", idempotency_key="k1")
    assert first == again and SandboxRefund.objects.count() == 1
    assert SandboxCharge.objects.get().refunded_minor == 500


@pytest.mark.parametrize("kwargs,code", [
    ({"payment_id": "pi_test_missing"}, "resource_missing"),
    ({"currency": "EUR"}, "currency_mismatch"),
    ({"amount_minor": 3000}, "amount_too_large"),
    ({"amount_minor": 0}, "amount_too_large"),
])
def test_refunds_the_provider_refuses(store, django_capture_on_commit_callbacks, kwargs, code):
    order = paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)
    args = {"payment_id": order.gateway_payment_id, "amount_minor": 500, "currency": "USD",
            "reason": "", "idempotency_key": "k", **kwargs}
    with pytest.raises(GatewayError) as exc:
        SandboxGateway().refund(**args)
    assert exc.value.code == code
    assert not SandboxRefund.objects.exists()
    assert SandboxCharge.objects.get().refunded_minor == 0


def test_notices_survive_the_json_round_trip():
    now = timezone.now()
    notice = Notice(event_id="evt_x", kind="subscription.renewed", occurred_at=now,
                    subscription_id="sub_1", period_start=now,
                    period_end=now + timedelta(days=30), amount_minor=999)
    assert notice_from_json(notice_to_json(notice)) == notice


def test_the_signature_covers_the_timestamp_and_the_body():
    body = b'{"a": 1}'
    now = int(time.time())
    assert sign(body, now) != sign(body, now + 1) and sign(body, now) != sign(b"{}", now)
    factory = RequestFactory()

    def parse(signature: str) -> list[Notice]:
        request = factory.post("/", data=body, content_type="application/json",
                               HTTP_SANDBOX_SIGNATURE=signature)
        return SandboxGateway().parse_callback(request)

    with pytest.raises(CallbackRejected):  # signature fine, body not a notice
        parse(sign(body, now))
    with pytest.raises(CallbackRejected, match="tolerance"):
        parse(sign(body, now - 3600))


def test_the_billing_clock_renews_and_ends_subscriptions(store,
                                                         django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    remote = SandboxSubscription.objects.get()
    sandbox = SandboxGateway()
    assert sandbox.bill_due(now=remote.current_period_end - timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert sandbox.bill_due(now=remote.current_period_end) == 1
    old_end = remote.current_period_end
    remote.refresh_from_db()
    assert remote.current_period_start == old_end and remote.current_period_end > old_end
    assert SandboxCharge.objects.count() == 2
    sub = Subscription.objects.get()
    assert sub.current_period_end == remote.current_period_end
    sandbox.cancel_subscription(subscription_id=remote.pk, at_period_end=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert sandbox.bill_due(now=remote.current_period_end) == 1
    remote.refresh_from_db()
    assert remote.status == "canceled" and SandboxCharge.objects.count() == 2
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is not None  # told by its notice
    with pytest.raises(GatewayError):
        sandbox.retry_subscription_payment(subscription_id=remote.pk)
    with pytest.raises(GatewayError):
        sandbox.subscription_state(subscription_id="sub_test_missing")


@pytest.mark.django_db
def test_a_second_payment_page_closes_the_first_so_nobody_pays_twice(
        django_capture_on_commit_callbacks):
    from shopkeep.payments.flows import checkout_start
    from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxCharge, SandboxSession
    from tests.commerce import make_product, make_shop, place_order

    store = make_shop()
    order = place_order(store, make_product(store))
    first = SandboxSession.objects.get(reference=order.order_number)
    checkout_start(order=order, success_url="https://x.test/ok", cancel_url="https://x.test/")
    second = SandboxSession.objects.exclude(pk=first.pk).get(reference=order.order_number)
    with django_capture_on_commit_callbacks(execute=True):
        ok_first, _ = SandboxGateway().pay(session_id=first.pk, card_number=CARD_OK)
        ok_second, _ = SandboxGateway().pay(session_id=second.pk, card_number=CARD_OK)
    assert (ok_first, ok_second) == (False, True)
    assert SandboxCharge.objects.filter(reference=order.order_number).count() == 1
