"""Event ``data`` for orders, field for field as seed 002's examples."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopkeep.core.money import money_str
from shopkeep.core.timefmt import iso
from shopkeep.orders.models import Order, OrderItem, Refund

GATEWAY_LABELS = {"sandbox": ("Sandbox", "sandbox.svg"), "stripe": ("Stripe", "stripe.svg"),
                  "paypal": ("PayPal", "paypal.svg"), "manual": ("Manual", "manual.svg")}


def _money(amount: Decimal, order: Order) -> str:
    return money_str(amount, order.currency)


def item_data(item: OrderItem, order: Order) -> dict[str, Any]:
    return {
        "id": item.pk,
        "product_id": item.product_id,
        "product_name": item.product_name,
        "quantity": item.quantity,
        "unit_price": _money(item.unit_price, order),
        "total": _money(item.total, order),
        "delivery_status": item.delivery_status,
    }


def order_metadata(order: Order) -> dict[str, Any]:
    """The order's metadata, plus ``pricing`` when a sale, coupon, gift card or tax shaped the
    price. Seed 002's keys stay as they are (its strict consumers see no new top-level key);
    the breakdown rides in the one free-form object the seed has."""
    items = list(order.items.all())
    sale_items = [i for i in items if i.list_price is not None
                  and i.list_price != i.unit_price + i.upgrade_credit]
    upgraded = [i for i in items if i.upgrade_credit]
    if not (order.discount or order.gift_card_amount or order.tax or sale_items
            or order.creator_code or upgraded):
        return order.metadata
    pricing: dict[str, Any] = {
        "discount": _money(order.discount, order),
        "coupon_code": order.coupon_code or None,
        "sale_savings": _money(sum(((i.list_price - i.unit_price - i.upgrade_credit)
                                    * i.quantity for i in sale_items), Decimal("0")), order),
        # Tier upgrades: what holding a lower tier took off (items' unit_price is net of it).
        "upgrade_credit": _money(sum((i.upgrade_credit * i.quantity for i in upgraded),
                                     Decimal("0")), order),
        "gift_card_amount": _money(order.gift_card_amount, order),
        "amount_charged": _money(order.amount_due, order),
        "tax_rate": format(order.tax_rate.normalize(), "f"),
        "tax_inclusive": order.tax_inclusive,
        "tax_country": order.tax_country or None,
        "reverse_charge": order.reverse_charge,
        "creator_code": order.creator_code or None,
    }
    return {**order.metadata, "pricing": pricing}


def order_data(order: Order) -> dict[str, Any]:
    """``order.received`` (and the legacy ``purchase.completed``, ``order.created``,
    ``order.updated``, which seed 002 says share its structure)."""
    label, icon = GATEWAY_LABELS.get(order.payment_gateway, (order.payment_gateway.title(), ""))
    return {
        "id": order.pk,
        "tenant_id": order.store.public_id,
        "user_id": order.customer_id,
        "order_number": order.order_number,
        "customer_email": order.customer_email,
        "customer_name": order.customer_name,
        "customer_phone": order.customer_phone or None,
        "billing_address": order.billing_address,
        # Game purchases ship nothing; the billing address stands in, as in the seed's example.
        "shipping_address": order.billing_address,
        "subtotal": _money(order.subtotal, order),
        "tax": _money(order.tax, order),
        "total": _money(order.total, order),
        "currency": order.currency,
        "status": order.status,
        "payment_status": order.payment_status,
        "payment_gateway": order.payment_gateway,
        "gateway_payment_id": order.gateway_payment_id or None,
        "paid_at": iso(order.paid_at),
        "is_test_order": order.is_test_order,
        "metadata": order_metadata(order),
        "payment_method": label,
        "payment_gateway_icon": icon,
        "items": [item_data(item, order) for item in order.items.all()],
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def order_refunded_data(order: Order, refund: Refund) -> dict[str, Any]:
    return {
        "id": order.pk,
        "order_number": order.order_number,
        "customer_email": order.customer_email,
        "customer_name": order.customer_name,
        "refund_amount": _money(refund.amount, order),
        "original_total": _money(order.total, order),
        "currency": order.currency,
        "status": order.status,
        "payment_status": order.payment_status,
        "reason": refund.reason,
        "refunded_at": iso(refund.settled_at),
    }


def payment_failed_data(order: Order, *, error_code: str, error_message: str,
                        failed_at) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "order_number": order.order_number,
        "customer_email": order.customer_email,
        "amount": _money(order.total, order),
        "currency": order.currency,
        "payment_gateway": order.payment_gateway,
        "error_code": error_code,
        "error_message": error_message,
        "failed_at": iso(failed_at),
    }
