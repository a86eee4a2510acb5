"""What the order page says: one state per order, each telling the truth (a refunded order
never says "delivered"), and whether the page should keep refreshing itself."""

from __future__ import annotations

from dataclasses import dataclass

from shopkeep.delivery.models import DeliveryCommand
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.promotions.giftcards import gift_cards_sold_by

POLL_SECONDS = 4


@dataclass(frozen=True)
class OrderState:
    key: str
    badge: str  # ok | warn | err | info: colour, always next to the words
    label: str
    message: str
    final: bool  # nothing more will happen by itself: the page stops polling

    @property
    def poll(self) -> bool:
        return not self.final


def _money(amount, order: Order) -> str:
    return f"{amount} {order.currency}"


def order_state(order: Order, items: list[OrderItem], waiting_servers: list[str],
                pending_refund: Refund | None, *, claim_waiting: bool = False) -> OrderState:
    S = Order.Status
    player = order.player_name or "your player"
    refunded = _money(order.refunded_amount, order)
    if order.status == S.DISPUTED:
        return OrderState("disputed", "err", "disputed", (
            "The payment is disputed: a chargeback was opened with the bank. Delivery is "
            "stopped while the store and the bank settle it. Questions? Contact support."),
            final=True)
    if order.status == S.REFUNDED:
        return OrderState("refunded", "info", "refunded", (
            f"Refunded in full: {refunded} went back to your payment method. What this "
            "order gave in game is taken back."), final=True)
    if order.status == S.CANCELLED:
        return OrderState("cancelled", "err", "cancelled",
                          "This order was not paid in time, so nothing was charged.",
                          final=True)
    if order.status == S.FAILED or any(i.delivery_status == "failed" for i in items):
        return OrderState("failed", "err", "delivery failed", (
            "We could not deliver part of this order. Contact support with the order "
            "number and we will sort it out."), final=True)
    if order.paid_at is None:
        if order.payment_status == Order.PaymentStatus.FAILED:
            return OrderState("payment_failed", "err", "payment failed",
                              "The last payment attempt failed. You can try again below.",
                              final=False)
        return OrderState("awaiting_payment", "warn", "awaiting payment",
                          "We are waiting for the payment to be confirmed.", final=False)
    prefix = ""
    if order.status == S.PARTIALLY_REFUNDED:
        prefix = f"Partially refunded: {refunded} of {_money(order.total, order)} went back. "
    if pending_refund is not None:
        prefix += f"A refund of {_money(pending_refund.amount, order)} is being processed. "
    open_items = [i for i in items if i.delivery_status == "pending"]
    if not open_items:
        key = "partially_refunded" if prefix else "delivered"
        return OrderState(key, "ok", "partially refunded" if prefix else "delivered",
                          prefix + f"Thank you! Everything is delivered to {player}.",
                          final=pending_refund is None)
    if waiting_servers:
        where = ", ".join(waiting_servers)
        return OrderState("waiting_online", "warn", "waiting for you", prefix + (
            f"Paid. Join {where} as {player}: some items can only be given while you are "
            "online, and they arrive within seconds of you joining."), final=False)
    if claim_waiting:
        return OrderState("waiting_claim", "warn", "waiting for you", prefix + (
            "Paid. Join the store's Discord server and type /claim there: your Discord role "
            "is given within seconds."), final=False)
    return OrderState("delivering", "info", "delivering",
                      prefix + f"Paid. Delivering to {player} now; this page updates itself.",
                      final=False)


def order_view(order: Order) -> dict:
    items = list(order.items.select_related("product"))
    waiting = sorted(set(DeliveryCommand.objects.filter(
        order=order, type=DeliveryCommand.Type.PURCHASE, require_online=True,
        status__in=DeliveryCommand.OPEN).values_list("server__name", flat=True)))
    refunds = list(order.refunds.all())
    pending = next((r for r in refunds if r.status == Refund.Status.PENDING), None)
    claim_waiting = DeliveryCommand.objects.filter(
        order=order, type=DeliveryCommand.Type.PURCHASE,
        status=DeliveryCommand.Status.WAITING_CLAIM).exists()
    state = order_state(order, items, waiting, pending, claim_waiting=claim_waiting)
    downloads_open = (order.paid_at is not None
                      and order.status not in (Order.Status.REFUNDED, Order.Status.DISPUTED))
    return {"order": order, "items": items, "state": state, "poll_seconds": POLL_SECONDS,
            "refunds": [r for r in refunds if r.status == Refund.Status.SUCCEEDED],
            "downloads_open": downloads_open,
            # The order page is the buyer's receipt (its address is the capability), so the
            # codes of gift cards it bought are shown here as well as e-mailed.
            "gift_cards": gift_cards_sold_by(store=order.store, order_number=order.order_number)
            if order.paid_at is not None else []}
