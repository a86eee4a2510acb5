"""Chargebacks: open marks the order disputed; won restores it, lost keeps it; each once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.payments.flows import dispute_open, dispute_resolve, refund_execute, refund_request
from shopkeep.payments.gateways.sandbox import SandboxGateway, notice_from_json
from shopkeep.payments.models import GatewayEvent
from shopkeep.payments.services import notice_receive
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, make_shop, paid_order, place_order
from tests.factories import owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def order(store, django_capture_on_commit_callbacks):
    return paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)


def _types(store) -> list[str]:
    return list(Event.objects.filter(store=store).values_list("event_type", flat=True))


def _open(order, dispute_id: str = "dp_1", **kwargs) -> Dispute | None:
    args = {"store": order.store, "gateway": "sandbox", "order_number": order.order_number,
            "dispute_id": dispute_id,
            "charge_id": "ch_1", "amount_minor": 2999, "currency": "USD",
            "reason": "fraudulent", "reason_description": "Not me",
            "evidence_due_by": timezone.now() + timedelta(days=10),
            "opened_at": timezone.now(), **kwargs}
    return dispute_open(**args)


def _resolve(order, status: str, dispute_id: str = "dp_1") -> Dispute | None:
    return dispute_resolve(store=order.store, gateway="sandbox", order_number=order.order_number,
                           dispute_id=dispute_id, status=status, amount_minor=2999,
                           currency="USD", reason="fraudulent", resolved_at=timezone.now())


def test_opening_a_dispute_marks_the_order_disputed(store, order):
    before = _types(store)
    dispute = _open(order)
    assert (dispute.status, dispute.amount_minor, dispute.net_amount_impact) == (
        "needs_response", 2999, 0)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("disputed", "disputed")
    assert _types(store) == [*before, "dispute.created", "order.updated"]


def test_a_won_dispute_restores_the_order(store, order):
    _open(order)
    dispute = _resolve(order, "won")
    assert (dispute.status, dispute.net_amount_impact) == ("won", 0)
    assert dispute.resolved_at is not None
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    data = Event.objects.filter(event_type="dispute.resolved").get().data
    assert (data["status"], data["net_amount_impact"]) == ("won", 0)


def test_a_warning_closed_after_a_partial_refund_restores_partially_refunded(store, order):
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=order,
                            amount="10.00")
    refund_execute(refund_id=refund.pk)
    _open(order)
    _resolve(order, "warning_closed")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("partially_refunded", "partially_refunded")


def test_a_lost_dispute_keeps_the_order_disputed_and_counts_the_loss(store, order):
    _open(order)
    before = list(Order.objects.values())
    dispute = _resolve(order, "lost")
    assert (dispute.status, dispute.net_amount_impact) == ("lost", -2999)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("disputed", "disputed")
    assert list(Order.objects.values()) == before  # the order row is untouched
    data = Event.objects.get(event_type="dispute.resolved").data
    assert (data["status"], data["net_amount_impact"], data["amount"]) == ("lost", -2999, 2999)


def test_repeated_open_and_close_change_nothing(store, order):
    _open(order)
    _resolve(order, "won")
    snapshot = (_types(store), list(Order.objects.values()), list(Dispute.objects.values()))
    assert _open(order) is None
    assert _resolve(order, "won") is None
    assert _resolve(order, "lost") is None  # a contradicting late close is not applied either
    assert (_types(store), list(Order.objects.values()),
            list(Dispute.objects.values())) == snapshot


def test_duplicate_gateway_notices_are_no_ops(store, order, django_capture_on_commit_callbacks):
    sandbox = SandboxGateway()
    with django_capture_on_commit_callbacks(execute=True):
        dispute_id = sandbox.simulate_dispute(payment_id=order.gateway_payment_id)
    created = GatewayEvent.objects.get(kind="dispute.created")
    notice = notice_from_json(json.dumps(created.payload).encode())
    before = _types(store)
    assert notice_receive(store=order.store, gateway="sandbox", notice=notice) == "duplicate"
    assert notice_receive(store=order.store,
                          gateway="sandbox", notice=replace(notice, event_id="evt_again")) == \
        "dispute known"
    assert _types(store) == before and Dispute.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.simulate_dispute_close(payment_id=order.gateway_payment_id,
                                       dispute_id=dispute_id, status="won",
                                       amount_minor=2999, reason="fraudulent")
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.simulate_dispute_close(payment_id=order.gateway_payment_id,
                                       dispute_id=dispute_id, status="won",
                                       amount_minor=2999, reason="fraudulent")
    assert _types(store).count("dispute.resolved") == 1
    order.refresh_from_db()
    assert order.status == "processing"


def test_a_close_before_the_open_opens_and_resolves_with_both_events(store, order):
    before = _types(store)
    dispute = _resolve(order, "lost", dispute_id="dp_late")
    assert dispute.status == "lost" and dispute.net_amount_impact == -2999
    assert _types(store) == [*before, "dispute.created", "order.updated", "dispute.resolved",
                             "order.updated"]
    assert _open(order, dispute_id="dp_late") is None
    assert Dispute.objects.count() == 1


def test_an_unpaid_or_unknown_order_opens_no_dispute(store):
    unpaid = place_order(store, make_product(store, name="Other"))
    before = _types(store)
    assert _open(unpaid) is None
    assert _resolve(unpaid, "won") is None
    assert dispute_resolve(store=store, gateway="sandbox", order_number="NOPE",
                           dispute_id="dp_x", status="won", amount_minor=1, currency="USD",
                           reason="",
                           resolved_at=timezone.now()) is None
    assert not Dispute.objects.exists() and _types(store) == before


def test_a_close_with_a_non_final_status_is_refused(store, order):
    _open(order)
    with pytest.raises(ValueError):
        _resolve(order, "under_review")
    assert Dispute.objects.get().status == "needs_response"


def test_an_unknown_reason_is_recorded_as_general(store, order):
    assert _open(order, reason="aliens").reason == "general"


def test_a_second_dispute_keeps_the_order_disputed_until_both_close(store, order):
    _open(order, dispute_id="dp_a")
    _open(order, dispute_id="dp_b")
    _resolve(order, "won", dispute_id="dp_a")
    order.refresh_from_db()
    assert order.status == "disputed"
    _resolve(order, "won", dispute_id="dp_b")
    order.refresh_from_db()
    assert order.status == "processing"
