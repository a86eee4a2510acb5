"""``notice_receive`` takes the store and scopes inside the service (issue 12, part 3): a
notice received for one store that names another store's order or subscription changes
nothing there, whatever the view in front of it checked."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shopkeep.delivery.models import DeliveryCommand
from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, Refund
from shopkeep.payments.gateways.base import Notice
from shopkeep.payments.models import GatewayEvent
from shopkeep.payments.services import notice_receive
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order, place_order
from tests.delivery.conftest import add_server, set_commands

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim():
    return make_shop(slug="victim")


@pytest.fixture
def outsider():
    return make_shop(slug="outsider")


def _state(store) -> tuple:
    return (list(Order.objects.filter(store=store).values_list(
                "status", "payment_status", "paid_at", "refunded_amount")),
            Event.objects.filter(store=store).count(),
            Dispute.objects.filter(store=store).count(),
            Refund.objects.filter(store=store).count(),
            DeliveryCommand.objects.filter(store=store).count(),
            list(Subscription.objects.filter(store=store).values_list("status", "ended_at")))


def _notice(kind: str, order: Order, **extra) -> Notice:
    return Notice(event_id=f"evt_{kind}", kind=kind, occurred_at=timezone.now(),
                  reference=order.order_number, currency=order.currency, **extra)


def test_a_payment_notice_for_another_stores_order_pays_nothing(victim, outsider):
    order = place_order(victim, make_product(victim))
    before = _state(victim)
    outcome = notice_receive(store=outsider, gateway="sandbox", notice=_notice(
        "payment.succeeded", order, payment_id="pi_x", amount_minor=2999))
    assert outcome == "deferred"  # unknown to this store: kept, never applied to the victim
    assert _state(victim) == before
    event = GatewayEvent.objects.get()
    assert (event.store, event.processed_at) == (outsider, None)


def test_the_same_notice_for_the_right_store_pays(victim):
    order = place_order(victim, make_product(victim))
    assert notice_receive(store=victim, gateway="sandbox", notice=_notice(
        "payment.succeeded", order, payment_id="pi_x", amount_minor=2999)) == \
        f"order {order.order_number} paid"
    order.refresh_from_db()
    assert order.paid_at is not None


@pytest.mark.parametrize(("kind", "extra"), [
    ("payment.failed", {"error_code": "card_declined"}),
    ("refund.succeeded", {"payment_id": "re_x", "amount_minor": 2999}),
    ("dispute.created", {"dispute_id": "dp_x", "amount_minor": 2999,
                         "dispute_reason": "fraudulent"}),
    ("dispute.closed", {"dispute_id": "dp_x", "amount_minor": 2999, "dispute_status": "lost",
                        "dispute_reason": "fraudulent"}),
])
def test_refund_and_dispute_notices_for_another_stores_order_change_nothing(
        victim, outsider, django_capture_on_commit_callbacks, kind, extra):
    _, _, _ = add_server(victim)
    product = make_product(victim)
    for trigger in ("refund", "chargeback"):
        set_commands(product, trigger, "take {player}")
    order = paid_order(victim, product, capture=django_capture_on_commit_callbacks)
    before = _state(victim)
    notice_receive(store=outsider, gateway="sandbox", notice=_notice(kind, order, **extra))
    assert _state(victim) == before


def test_a_subscription_cancel_for_another_stores_subscription_changes_nothing(
        victim, outsider, django_capture_on_commit_callbacks):
    monthly = make_product(victim, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    order = paid_order(victim, monthly, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get()
    before = _state(victim)
    for kind in ("subscription.cancelled", "subscription.payment_failed"):
        notice_receive(store=outsider, gateway="sandbox", notice=_notice(
            kind, order, subscription_id=sub.gateway_subscription_id, error_code="x"))
    assert _state(victim) == before
    assert notice_receive(store=victim, gateway="sandbox", notice=_notice(
        "subscription.cancelled", order, subscription_id=sub.gateway_subscription_id)) == \
        "subscription.cancelled applied"
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is not None
