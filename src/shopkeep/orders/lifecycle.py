"""The one place an order's ``status`` and ``payment_status`` are decided (issue 12).

Writers record *facts* (the payment, a declined attempt, giving up on an unpaid order,
settled refunds, dispute rows, item delivery states) and then call ``order_sync``, which
derives both fields from those facts alone. No writer sets a status of its own, so two
writers cannot disagree about the result: a won dispute on a delivered order is
``completed`` because the order is paid, unrefunded, undisputed and delivered, whatever
the dispute code thinks the order was before.

The rules (tests/orders/test_lifecycle.py runs every state x event pair through them):

unpaid   cancelled (given up, stock released)           -> cancelled / cancelled
         last payment attempt declined                  -> pending   / failed
         otherwise                                      -> pending   / pending
paid     a dispute open, or one lost                    -> disputed  / disputed
         refunds settled for the whole total            -> refunded  / refunded
         refunds settled for part of it                 -> partially_refunded (both)
         every item delivered                           -> completed / paid
         otherwise (items pending, failed or cancelled) -> processing / paid

A lost dispute keeps the order ``disputed``: the bank took the money back. ``won`` and
``warning_closed`` leave nothing open, so the order is what its other facts say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from shopkeep.orders.models import Order, OrderItem

S = Order.Status
P = Order.PaymentStatus
# Dispute statuses, by value: disputes sits above orders and orders does not import it
# (tests/orders/test_lifecycle.py checks these against disputes.models.Dispute).
DISPUTE_LOST = "lost"
DISPUTE_CLOSED = frozenset({"won", "lost", "warning_closed"})


@dataclass(frozen=True)
class Facts:
    paid: bool
    total: Decimal
    refunded: Decimal = Decimal("0")
    cancelled: bool = False
    payment_failed: bool = False
    open_disputes: int = 0
    lost_disputes: int = 0
    items: tuple[str, ...] = ()


def derive(facts: Facts) -> tuple[str, str]:
    """(status, payment_status) for these facts; pure, so the table test can run it."""
    if not facts.paid:
        if facts.cancelled:
            return S.CANCELLED, P.CANCELLED
        return S.PENDING, P.FAILED if facts.payment_failed else P.PENDING
    if facts.open_disputes or facts.lost_disputes:
        return S.DISPUTED, P.DISPUTED
    if facts.refunded >= facts.total:
        return S.REFUNDED, P.REFUNDED
    if facts.refunded > 0:
        return S.PARTIALLY_REFUNDED, P.PARTIALLY_REFUNDED
    if facts.items and all(i == OrderItem.DeliveryStatus.DELIVERED for i in facts.items):
        return S.COMPLETED, P.PAID
    return S.PROCESSING, P.PAID


def facts_of(order: Order) -> Facts:
    """Read the facts from the database (the caller holds the order's row lock)."""
    disputes = list(order.disputes.values_list("status", flat=True))
    return Facts(paid=order.paid_at is not None, total=order.total,
                 refunded=order.refunded_amount,
                 cancelled=order.paid_at is None and order.cancelled_at is not None,
                 payment_failed=order.payment_failed_at is not None,
                 open_disputes=sum(1 for s in disputes if s not in DISPUTE_CLOSED),
                 lost_disputes=sum(1 for s in disputes if s == DISPUTE_LOST),
                 items=tuple(order.items.values_list("delivery_status", flat=True)))


@dataclass(frozen=True)
class Change:
    status_before: str
    status: str
    payment_before: str
    payment_status: str

    @property
    def changed(self) -> bool:
        return (self.status_before, self.payment_before) != (self.status, self.payment_status)


def order_sync(*, order: Order, now: datetime | None = None) -> Change:
    """Derive and store ``order``'s status from its facts; call after recording a fact.

    Runs inside the caller's transaction with the order row locked (``select_for_update``).
    The in-memory ``order`` is updated too. Saves only the two status fields (and
    ``updated_at``) when they change; the caller saves the facts it changed.
    """
    status, payment_status = derive(facts_of(order))
    change = Change(order.status, status, order.payment_status, payment_status)
    if change.changed:
        order.status, order.payment_status = status, payment_status
        order.updated_at = now or timezone.now()
        Order.objects.filter(pk=order.pk).update(status=status, payment_status=payment_status,
                                                 updated_at=order.updated_at)
    return change
