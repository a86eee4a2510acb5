"""Refunds in three steps, so money and rows never disagree:

1. ``payments.flows.refund_request``: ``refund_create`` here (one transaction) checks the
   amount against what is left, counting refunds still in flight, writes a pending
   ``Refund``, and the flow enqueues its execution in the same transaction.
2. ``payments.flows.refund_execute`` (worker, no transaction held): asks the gateway,
   passing ``refund_key`` (the refund's own id) as the idempotency key, so a worker that dies
   and re-runs never refunds twice.
3. ``refund_mark_settled`` / ``refund_fail`` (one transaction each): the order's totals and
   status (orders/lifecycle.py), ``order.refunded`` and legacy ``order.updated``; the flow
   queues the take-back commands in the settling transaction.

This module never calls a gateway or the delivery queue: ``payments/flows.py`` does.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.money import InvalidAmount, from_minor, parse_amount
from shopkeep.core.text import clean_line
from shopkeep.events.services import emit
from shopkeep.orders.lifecycle import order_sync
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.orders.payloads import order_data, order_refunded_data
from shopkeep.promotions.giftcards import (
    gift_card_credit,
    gift_card_unspent_lock,
    gift_card_unvoid,
    gift_card_void,
)
from shopkeep.promotions.models import GiftCardTransaction
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

logger = logging.getLogger("shopkeep.refunds")
REFUNDABLE = (Order.Status.PROCESSING, Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED,
              Order.Status.DISPUTED)


def _in_flight(order: Order) -> Decimal:
    pending = order.refunds.filter(status=Refund.Status.PENDING).aggregate(s=Sum("amount"))["s"]
    return pending or Decimal("0")


def _gift_card_share(order: Order, amount: Decimal) -> Decimal:
    """How much of a refund goes back onto the order's gift card: the card first, since that
    needs no gateway and costs no fees, up to what the card paid and has not had back."""
    if not order.gift_card_id or order.gift_card_amount <= 0:
        return Decimal("0")
    back = (order.refunds.exclude(status=Refund.Status.FAILED)
            .aggregate(s=Sum("gift_card_amount"))["s"] or Decimal("0"))
    return max(Decimal("0"), min(amount, order.gift_card_amount - back))


@transaction.atomic
def refund_create(*, store: Store, actor: Actor, order: Order, amount: str | Decimal | None,
                  reason: str = "") -> Refund:
    """A pending refund of the store's paid order (its execution is the flow's to queue)."""
    require_permission(store, actor, Perm.ORDERS_REFUND)
    order = Order.objects.select_for_update().get(pk=order.pk, store=store)
    if order.paid_at is None or order.status not in REFUNDABLE:
        raise Conflict("not_refundable", f"Order {order.order_number} is {order.status}; only "
                       "paid orders can be refunded.")
    available = order.total - order.refunded_amount - _in_flight(order)
    if available <= 0:
        raise Conflict("nothing_left", "Everything paid on this order is refunded or being "
                       "refunded already.")
    cards = gift_card_unspent_lock(store=store, order_number=order.order_number)
    if cards:
        # Gift cards this order bought: what has been spent from them is not refundable (the
        # buyer has had it); what is left is voided with the refund, in this transaction.
        voided = -(GiftCardTransaction.objects.filter(
            card__in=cards, kind=GiftCardTransaction.Kind.VOID).aggregate(s=Sum("amount"))["s"]
            or Decimal("0"))
        spent = max(Decimal("0"), sum((c.initial_balance - c.balance for c in cards),
                                      Decimal("0")) - voided)
        available -= spent
        if available <= 0:
            raise Conflict("gift_card_spent", "The gift cards bought with this order have been "
                           "spent; nothing is left to refund.")
    if amount in (None, ""):
        value = available
    else:
        try:
            value = parse_amount(amount, order.currency, allow_zero=False)
        except InvalidAmount as exc:
            raise ServiceError("invalid_amount", f"Amount: {exc}.", field="amount") from None
    if value > available:
        raise ServiceError("amount_too_large", f"At most {available} {order.currency} can be "
                           "refunded.", field="amount")
    refund = Refund.objects.create(store=store, order=order, amount=value,
                                   gift_card_amount=_gift_card_share(order, value),
                                   reason=clean_line(reason, max_length=500),
                                   requested_by=actor.label)
    _void_sold_cards(order, cards, value, refund, actor)
    audit_record(store=store, actor=actor, action="refund.requested", obj=order,
                 details={"refund_id": refund.pk, "amount": str(value), "reason": refund.reason})
    return refund


def _void_sold_cards(order: Order, cards: list, value: Decimal, refund: Refund,
                     actor: Actor) -> None:
    """Void unspent card balance for ``value``, oldest card first (a failed refund gives it
    back: ``refund_fail``)."""
    left = value
    for card in cards:
        if left <= 0:
            break
        take = min(card.balance, left)
        if take > 0:
            gift_card_void(card=card, amount=take, order_number=order.order_number,
                           note=f"refund {refund.pk}", actor=actor.label)
            left -= take


# The gateway may or may not have refunded when it answers these: leave the refund pending
# for the reconciliation (payments/refund_reconcile.py) to settle by asking, never mark it failed.
UNCERTAIN_ERRORS = frozenset({"idempotency_error", "gateway_unreachable", "rate_limited",
                              "api_error"})


def refund_key(refund: Refund) -> str:
    """The gateway idempotency key of a refund: its own id, so every run of its execution (a
    retry after a crash, the reconciliation) asks for the same refund."""
    return f"shopkeep-refund-{refund.pk}"


@transaction.atomic
def refund_mark_settled(*, refund_id: int, gateway_refund_id: str) -> Refund | None:
    """The gateway made the refund: count it on the order, once (conditional on pending)."""
    refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.PENDING:
        return None
    order = Order.objects.select_for_update().select_related("store").get(pk=refund.order_id)
    now = timezone.now()
    refund.status = Refund.Status.SUCCEEDED
    refund.gateway_refund_id = gateway_refund_id
    refund.settled_at = now
    refund.save()
    _apply_refund(order, refund.amount, now)
    if refund.gift_card_amount > 0 and order.gift_card_id:
        gift_card_credit(card_id=order.gift_card_id, amount=refund.gift_card_amount,
                         order_number=order.order_number,
                         kind=GiftCardTransaction.Kind.REFUND, actor=refund.requested_by,
                         note=f"refund {refund.pk}")
    emit(store=order.store, event_type="order.refunded", data=order_refunded_data(order, refund))
    emit(store=order.store, event_type="order.updated", data=order_data(order))
    audit_record(store=order.store, actor=Actor.system(order.payment_gateway),
                 action="refund.succeeded", obj=order,
                 details={"refund_id": refund.pk, "amount": str(refund.amount)})
    return refund


def _apply_refund(order: Order, amount: Decimal, now) -> None:
    order.refunded_amount += amount
    order.updated_at = now
    order.save()
    if order.refunded_amount >= order.total:
        # Nothing more is owed to a fully refunded order: undelivered items are not delivered.
        order.items.filter(delivery_status=OrderItem.DeliveryStatus.PENDING).update(
            delivery_status=OrderItem.DeliveryStatus.CANCELLED)
    order_sync(order=order, now=now)


@transaction.atomic
def refund_fail(*, refund_id: int, error: str) -> Refund | None:
    refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.PENDING:
        return None
    refund.status = Refund.Status.FAILED
    refund.error = error[:500]
    refund.settled_at = timezone.now()
    refund.save()
    gift_card_unvoid(order_number=refund.order.order_number, note=f"refund {refund.pk}",
                     actor=Actor.system(refund.order.payment_gateway).label)
    audit_record(store=refund.order.store, actor=Actor.system(refund.order.payment_gateway),
                 action="refund.failed", obj=refund.order,
                 details={"refund_id": refund.pk, "error": refund.error})
    logger.warning("refund %s failed: %s", refund.pk, error)
    return refund


@transaction.atomic
def refund_external_record(*, store: Store, order_number: str, gateway: str,
                           gateway_refund_id: str, amount_minor: int) -> Refund | None:
    """A refund made in the provider's own dashboard: record it once, as if we had made it.
    Only the store's own orders (another store's order number is unknown here)."""
    order = (Order.objects.select_for_update().select_related("store")
             .filter(store=store, order_number=order_number, payment_gateway=gateway).first())
    if order is None or order.paid_at is None:
        return None
    known = Refund.objects.select_for_update().filter(order=order,
                                                      gateway_refund_id=gateway_refund_id).first()
    if known is not None:
        if known.status == Refund.Status.PENDING:
            # Ours, reported pending by the gateway when it was made: this notice settles it
            # (the flow layer queues its take-back, as for any settled refund).
            return refund_mark_settled(refund_id=known.pk, gateway_refund_id=gateway_refund_id)
        return None  # ours, and settled already
    amount = min(from_minor(amount_minor, order.currency), order.total - order.refunded_amount)
    if amount <= 0:
        return None
    now = timezone.now()
    refund = Refund.objects.create(store=order.store, order=order, amount=amount,
                                   reason="Refunded at the payment gateway",
                                   status=Refund.Status.SUCCEEDED,
                                   gateway_refund_id=gateway_refund_id,
                                   requested_by=gateway, settled_at=now)
    # Refunded outside Shopkeep: the cards the order bought lose what is left of them, up to
    # the amount (what was spent is gone; the owner sees it in the card's ledger).
    _void_sold_cards(order, gift_card_unspent_lock(store=order.store,
                                                   order_number=order.order_number),
                     amount, refund, Actor.system(gateway))
    _apply_refund(order, amount, now)
    emit(store=order.store, event_type="order.refunded", data=order_refunded_data(order, refund))
    emit(store=order.store, event_type="order.updated", data=order_data(order))
    audit_record(store=order.store, actor=Actor.system(gateway), action="refund.external",
                 obj=order, details={"refund_id": refund.pk, "amount": str(amount)})
    return refund
