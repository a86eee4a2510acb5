"""The event catalogue: the 17 event types of seed 002 and its legacy aliases.

Webhook endpoints subscribe to these names. Legacy names are still emitted where seed 002 says
they fire (``order.created`` at creation, ``purchase.completed`` beside ``order.received``,
``order.updated`` on later changes, ``order.completed`` when fully delivered).
"""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "order.received": "An order was paid",
    "order.refunded": "An order was refunded, fully or partly",
    "payment.failed": "A payment attempt failed",
    "subscription.created": "A subscription started with its first payment",
    "subscription.renewed": "A subscription renewed for another period",
    "subscription.cancelled": "A subscription was cancelled",
    "subscription.payment_failed": "A subscription renewal payment failed",
    "customer.created": "A customer was created",
    "delivery.completed": "Every command of an order was delivered",
    "delivery.failed": "A delivery command failed permanently",
    "ticket.created": "A customer opened a support ticket",
    "ticket.reply": "A reply was added to a support ticket",
    "dispute.created": "A payment was disputed (chargeback)",
    "dispute.resolved": "A dispute was resolved",
    "product.created": "A product was created",
    "product.updated": "A product was changed",
    "product.deleted": "A product was deleted",
}

# legacy name -> recommended event (seed 002, "Legacy Events")
LEGACY_ALIASES: dict[str, str] = {
    "purchase.completed": "order.received",
    "order.created": "order.received",
    "order.updated": "order.received",
    "order.completed": "order.received",
}

CATEGORIES: dict[str, list[str]] = {
    "Orders & Payments": ["order.received", "order.refunded", "payment.failed"],
    "Subscriptions": ["subscription.created", "subscription.renewed",
                      "subscription.cancelled", "subscription.payment_failed"],
    "Customers": ["customer.created"],
    "Delivery": ["delivery.completed", "delivery.failed"],
    "Support": ["ticket.created", "ticket.reply"],
    "Disputes": ["dispute.created", "dispute.resolved"],
    "Products": ["product.created", "product.updated", "product.deleted"],
}

ALL_EVENT_NAMES: frozenset[str] = frozenset(EVENT_TYPES) | frozenset(LEGACY_ALIASES)


def is_known(event_type: str) -> bool:
    return event_type in ALL_EVENT_NAMES


def is_legacy(event_type: str) -> bool:
    return event_type in LEGACY_ALIASES
