"""orders/lifecycle.py: every (order state x event) pair, then the same rules through the real
writers (payments, refunds, disputes, delivery), including the case found by reading: a
delivered order whose dispute is won went back to ``processing`` and stayed there."""

from __future__ import annotations

import ast
import pathlib
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopkeep.disputes.models import Dispute
from shopkeep.orders import lifecycle
from shopkeep.orders.lifecycle import Facts, derive
from shopkeep.orders.models import Order
from shopkeep.payments.gateways.sandbox import SandboxGateway
from tests.commerce import paid_order

TEN = Decimal("10.00")
D, PE, F, C = "delivered", "pending", "failed", "cancelled"

STATES: dict[str, Facts] = {
    "pending": Facts(paid=False, total=TEN, items=(PE,)),
    "pending_declined": Facts(paid=False, total=TEN, payment_failed=True, items=(PE,)),
    "cancelled": Facts(paid=False, total=TEN, cancelled=True, items=(C,)),
    "processing": Facts(paid=True, total=TEN, items=(PE,)),
    "processing_item_failed": Facts(paid=True, total=TEN, items=(F,)),
    "completed": Facts(paid=True, total=TEN, items=(D,)),
    "partially_refunded": Facts(paid=True, total=TEN, refunded=Decimal("4"), items=(D,)),
    "refunded": Facts(paid=True, total=TEN, refunded=TEN, items=(D,)),
    "disputed": Facts(paid=True, total=TEN, open_disputes=1, items=(D,)),
    "disputed_before_delivery": Facts(paid=True, total=TEN, open_disputes=1, items=(C,)),
    "dispute_lost": Facts(paid=True, total=TEN, lost_disputes=1, items=(D,)),
}


def _items(facts: Facts, frm: set[str], to: str) -> tuple[str, ...]:
    return tuple(to if i in frm else i for i in facts.items)


# Each event is what its writer records; an event that does not apply to a state (a refund
# of an unpaid order, a win with no open dispute) records nothing, as its writer refuses it.
def paid(f: Facts) -> Facts:
    if f.paid:
        return f
    return replace(f, paid=True, cancelled=False, items=_items(f, {C}, PE))


def payment_declined(f: Facts) -> Facts:
    return f if f.paid else replace(f, payment_failed=True)


def expired(f: Facts) -> Facts:
    if f.paid or f.cancelled:
        return f
    return replace(f, cancelled=True, items=_items(f, {PE}, C))


def delivered(f: Facts) -> Facts:
    return replace(f, items=_items(f, {PE, F}, D)) if f.paid else f


def delivery_failed(f: Facts) -> Facts:
    return replace(f, items=_items(f, {PE}, F)) if f.paid else f


def partial_refund(f: Facts) -> Facts:
    if not f.paid or f.refunded >= f.total or f.open_disputes or f.lost_disputes:
        return f
    return replace(f, refunded=min(f.total, f.refunded + Decimal("4")))


def full_refund(f: Facts) -> Facts:
    if not f.paid or f.refunded >= f.total or f.open_disputes or f.lost_disputes:
        return f
    return replace(f, refunded=f.total, items=_items(f, {PE}, C))


def dispute_opened(f: Facts) -> Facts:
    return replace(f, open_disputes=f.open_disputes + 1) if f.paid else f


def dispute_won(f: Facts) -> Facts:
    return replace(f, open_disputes=f.open_disputes - 1) if f.open_disputes else f


def dispute_lost(f: Facts) -> Facts:
    if not f.open_disputes:
        return f
    return replace(f, open_disputes=f.open_disputes - 1, lost_disputes=f.lost_disputes + 1)


EVENTS = {e.__name__: e for e in (paid, payment_declined, expired, delivered, delivery_failed,
                                  partial_refund, full_refund, dispute_opened, dispute_won,
                                  dispute_lost)}
EVENTS["dispute_warning_closed"] = dispute_won

P, PR, R, X = "processing/paid", "partially_refunded/partially_refunded", \
    "refunded/refunded", "disputed/disputed"
CO = "completed/paid"
# Rows: state; columns in EVENTS order:
#  paid, declined, expired, delivered, delivery_failed, partial_refund, full_refund,
#  dispute_opened, dispute_won, dispute_lost, dispute_warning_closed
EXPECTED = {
    "pending": [P, "pending/failed", "cancelled/cancelled", "pending/pending",
                "pending/pending", "pending/pending", "pending/pending", "pending/pending",
                "pending/pending", "pending/pending", "pending/pending"],
    "pending_declined": [P, "pending/failed", "cancelled/cancelled", "pending/failed",
                         "pending/failed", "pending/failed", "pending/failed",
                         "pending/failed", "pending/failed", "pending/failed",
                         "pending/failed"],
    "cancelled": [P, "cancelled/cancelled", "cancelled/cancelled", "cancelled/cancelled",
                  "cancelled/cancelled", "cancelled/cancelled", "cancelled/cancelled",
                  "cancelled/cancelled", "cancelled/cancelled", "cancelled/cancelled",
                  "cancelled/cancelled"],
    "processing": [P, P, P, CO, P, PR, R, X, P, P, P],
    "processing_item_failed": [P, P, P, CO, P, PR, R, X, P, P, P],
    "completed": [CO, CO, CO, CO, CO, PR, R, X, CO, CO, CO],
    "partially_refunded": [PR, PR, PR, PR, PR, PR, R, X, PR, PR, PR],
    "refunded": [R, R, R, R, R, R, R, X, R, R, R],
    # The case found by reading: won (or closed with a warning) on a delivered order is
    # completed again, not processing.
    "disputed": [X, X, X, X, X, X, X, X, CO, X, CO],
    # Its purchase commands were cancelled when the dispute opened: nothing delivered.
    "disputed_before_delivery": [X, X, X, X, X, X, X, X, P, X, P],
    "dispute_lost": [X] * 11,
}


def test_the_table_covers_every_state_and_event():
    assert set(EXPECTED) == set(STATES)
    assert all(len(row) == len(EVENTS) for row in EXPECTED.values())


@pytest.mark.parametrize("state", list(STATES))
def test_each_state_derives_its_own_name(state):
    status, payment = derive(STATES[state])
    assert status == {"pending_declined": "pending", "processing_item_failed": "processing",
                      "disputed_before_delivery": "disputed",
                      "dispute_lost": "disputed"}.get(state, state)
    assert payment in Order.PaymentStatus.values


@pytest.mark.parametrize(("state", "event"), [(s, e) for s in STATES for e in EVENTS])
def test_every_state_and_event_pair(state, event):
    expected = EXPECTED[state][list(EVENTS).index(event)]
    assert "/".join(derive(EVENTS[event](STATES[state]))) == expected


def test_the_dispute_statuses_lifecycle_knows_are_the_disputes_apps():
    assert set(Dispute.RESOLVED) == lifecycle.DISPUTE_CLOSED
    assert lifecycle.DISPUTE_LOST == Dispute.Status.LOST


SRC = pathlib.Path(__file__).resolve().parents[2] / "src" / "shopkeep"


def test_no_module_but_lifecycle_assigns_an_orders_status():
    """Writers record facts; only orders/lifecycle.py writes ``status``/``payment_status``
    of an order (assignments to ``order.status`` or any ``.payment_status``)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or path.name == "lifecycle.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else [])
            for target in targets:
                for t in (target.elts if isinstance(target, ast.Tuple) else [target]):
                    if (isinstance(t, ast.Attribute)
                            and (t.attr == "payment_status"
                                 or (t.attr == "status" and isinstance(t.value, ast.Name)
                                     and t.value.id == "order"))):
                        offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


# -- the same rules through the real writers ------------------------------------------------


@pytest.fixture
def store(db):
    from tests.commerce import make_shop

    return make_shop()


def _delivered_order(store, capture):
    from tests.commerce import make_product

    product = make_product(store, purchase_command=None)  # delivered at payment
    order = paid_order(store, product, capture=capture)
    assert (order.status, order.payment_status) == ("completed", "paid")
    return order


def _dispute(order, capture) -> str:
    with capture(execute=True):
        return SandboxGateway().simulate_dispute(payment_id=order.gateway_payment_id)


def _close(order, dispute_id: str, status: str, capture) -> None:
    with capture(execute=True):
        SandboxGateway().simulate_dispute_close(
            payment_id=order.gateway_payment_id, dispute_id=dispute_id, status=status,
            amount_minor=2999, reason="fraudulent")
    order.refresh_from_db()


@pytest.mark.parametrize(("outcome", "expected"), [
    ("won", ("completed", "paid")),
    ("warning_closed", ("completed", "paid")),
    ("lost", ("disputed", "disputed")),
])
def test_a_delivered_orders_dispute_outcome(store, django_capture_on_commit_callbacks,
                                            outcome, expected):
    capture = django_capture_on_commit_callbacks
    order = _delivered_order(store, capture)
    dispute_id = _dispute(order, capture)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("disputed", "disputed")
    _close(order, dispute_id, outcome, capture)
    assert (order.status, order.payment_status) == expected


def test_a_won_dispute_with_another_still_open_stays_disputed(
        store, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    order = _delivered_order(store, capture)
    first, _second = _dispute(order, capture), _dispute(order, capture)
    _close(order, first, "won", capture)
    assert (order.status, order.payment_status) == ("disputed", "disputed")


def test_a_paid_notice_after_the_hold_expired_makes_the_order_processing_again(
        store, django_capture_on_commit_callbacks):
    from shopkeep.orders.services import orders_expire_unpaid
    from tests.commerce import make_product, pay, place_order

    order = place_order(store, make_product(store))
    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=1)) == 1
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "cancelled")
    assert pay(order, capture=django_capture_on_commit_callbacks)[0]
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.items.get().delivery_status == "pending"
