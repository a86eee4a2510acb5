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


# -- the worker's path (notice_record, then notice_process), and ids one store used first ----

ALL_KINDS = [
    ("payment.succeeded", {"payment_id": "pi_x", "amount_minor": 2999}),
    ("payment.failed", {"error_code": "card_declined"}),
    ("refund.succeeded", {"payment_id": "re_x", "amount_minor": 2999}),
    ("dispute.created", {"dispute_id": "dp_x", "amount_minor": 2999,
                         "dispute_reason": "fraudulent"}),
    ("dispute.closed", {"dispute_id": "dp_x", "amount_minor": 2999, "dispute_status": "lost",
                        "dispute_reason": "fraudulent"}),
]


@pytest.mark.parametrize(("kind", "extra"), ALL_KINDS)
def test_a_recorded_notice_for_another_stores_order_changes_nothing_when_applied(
        victim, outsider, django_capture_on_commit_callbacks, kind, extra):
    from shopkeep.payments.services import notice_process, notice_record

    _, _, _ = add_server(victim)
    product = make_product(victim)
    for trigger in ("refund", "chargeback"):
        set_commands(product, trigger, "take {player}")
    paid = paid_order(victim, product, capture=django_capture_on_commit_callbacks)
    unpaid = place_order(victim, product)
    before = _state(victim)
    for order in (paid, unpaid):
        event = notice_record(store=outsider, gateway="sandbox", notice=Notice(
            event_id=f"evt_{kind}_{order.pk}", kind=kind, occurred_at=timezone.now(),
            reference=order.order_number, currency=order.currency, **extra))
        # Unknown in the outsider's store: kept waiting, or answered as nothing to do.
        assert notice_process(event_id=event.pk) in (
            "deferred", "ignored", "refund already known")
        notice_process(event_id=event.pk)  # and again
        event.refresh_from_db()
        assert event.store == outsider
        assert _state(victim) == before


def test_a_refund_notice_naming_another_stores_refund_key_settles_nothing(
        victim, outsider, django_capture_on_commit_callbacks):
    from shopkeep.payments.flows import refund_request
    from tests.promotions.helpers import owner

    product = make_product(victim)
    order = paid_order(victim, product, capture=django_capture_on_commit_callbacks)
    refund = refund_request(store=victim, actor=owner(victim), order=order, amount=None,
                            reason="asked")
    own = paid_order(outsider, make_product(outsider),
                     capture=django_capture_on_commit_callbacks)
    before = _state(victim)
    key = {"idempotency_key": f"shopkeep-refund-{refund.pk}"}
    for reference in (order.order_number, own.order_number):
        notice_receive(store=outsider, gateway="sandbox", notice=Notice(
            event_id=f"evt_re_{reference}", kind="refund.succeeded",
            occurred_at=timezone.now(), reference=reference, payment_id="re_forged",
            amount_minor=2999, currency="USD", raw=key))
    refund.refresh_from_db()
    assert (refund.status, refund.gateway_refund_id) == ("pending", "")
    assert _state(victim) == before


def test_a_dispute_id_another_store_used_first_does_not_block_this_stores_dispute(
        victim, outsider, django_capture_on_commit_callbacks):
    _, _, _ = add_server(victim)
    product = make_product(victim)
    set_commands(product, "chargeback", "ban {player}")
    order = paid_order(victim, product, capture=django_capture_on_commit_callbacks)
    own = paid_order(outsider, make_product(outsider),
                     capture=django_capture_on_commit_callbacks)
    dispute = {"dispute_id": "dp_same", "amount_minor": 2999, "dispute_reason": "fraudulent"}
    notice_receive(store=outsider, gateway="sandbox", notice=_notice(
        "dispute.created", own, **dispute))
    assert notice_receive(store=victim, gateway="sandbox", notice=_notice(
        "dispute.created", order, **dispute)) == "dispute opened"
    mine = Dispute.objects.get(store=victim)
    assert (mine.order, mine.status) == (order, "needs_response")
    assert Event.objects.filter(store=victim, event_type="dispute.created").count() == 1
    # The outsider closing "its" dispute with that id closes only its own.
    notice_receive(store=outsider, gateway="sandbox", notice=Notice(
        event_id="evt_close_own", kind="dispute.closed", occurred_at=timezone.now(),
        reference=own.order_number, currency="USD", dispute_status="won", **dispute))
    mine.refresh_from_db()
    assert mine.status == "needs_response"
    assert Dispute.objects.get(store=outsider).status == "won"


def test_a_subscription_id_another_store_used_first_does_not_block_this_stores_subscription(
        victim, outsider):
    from datetime import timedelta

    def subscribe(store, event_id: str) -> Order:
        monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                               billing_interval="month")
        order = place_order(store, monthly)
        now = timezone.now()
        notice_receive(store=store, gateway="sandbox", notice=Notice(
            event_id=event_id, kind="payment.succeeded", occurred_at=now,
            reference=order.order_number, payment_id=f"pi_{event_id}", amount_minor=999,
            currency="USD", subscription_id="sub_same", period_start=now,
            period_end=now + timedelta(days=30)))
        return order

    subscribe(outsider, "evt_first")
    order = subscribe(victim, "evt_second")
    sub = Subscription.objects.get(store=victim)
    assert (sub.order, sub.status) == (order, "active")
    before = _state(victim)
    notice_receive(store=outsider, gateway="sandbox", notice=Notice(
        event_id="evt_cancel", kind="subscription.cancelled", occurred_at=timezone.now(),
        subscription_id="sub_same"))
    assert _state(victim) == before
    assert Subscription.objects.get(store=outsider).status == "canceled"


def test_renewal_and_update_notices_for_another_stores_subscription_change_nothing(
        victim, outsider, django_capture_on_commit_callbacks):
    from datetime import timedelta

    monthly = make_product(victim, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(victim, monthly, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get()
    before = (_state(victim), sub.current_period_end)
    later = sub.current_period_end + timedelta(days=30)
    for kind in ("subscription.renewed", "subscription.updated"):
        notice_receive(store=outsider, gateway="sandbox", notice=Notice(
            event_id=f"evt_{kind}", kind=kind, occurred_at=timezone.now(),
            subscription_id=sub.gateway_subscription_id, period_start=sub.current_period_end,
            period_end=later, amount_minor=999, subscription_status="canceled"))
    sub.refresh_from_db()
    assert (_state(victim), sub.current_period_end) == before
