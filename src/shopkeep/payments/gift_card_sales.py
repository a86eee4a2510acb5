"""Gift cards sold as a product: paying for one issues the card (flow layer).

A product of type ``gift_card`` is worth its price: each unit bought issues one card holding
the unit price, e-mailed to the buyer by the worker (``notifications``: ``gift_card``). The
card is created in the payment's transaction, with its ledger's issue row, so a paid order
always has its cards and an unpaid one none. Refunds void what is left on them
(``orders/refunds.py``).
"""

from __future__ import annotations

from shopkeep.catalog.models import Product
from shopkeep.orders.models import Order
from shopkeep.promotions.giftcards import gift_card_issue_sold, gift_cards_sold_by
from shopkeep.promotions.models import GiftCard


def on_gift_cards_paid(*, order: Order) -> list[GiftCard]:
    """Inside the payment's transaction: the cards the order bought (once per order)."""
    items = [i for i in order.items.all() if i.product_type == Product.Type.GIFT_CARD]
    if not items or gift_cards_sold_by(store=order.store, order_number=order.order_number):
        return []
    cards = []
    for item in items:
        for unit in range(item.quantity):
            cards.append(gift_card_issue_sold(
                store=order.store, amount=item.unit_price, order_number=order.order_number,
                recipient_email=order.customer_email,
                note=f"{item.product_name} ({unit + 1} of {item.quantity})"
                if item.quantity > 1 else item.product_name))
    return cards
