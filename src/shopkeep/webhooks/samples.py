"""Sample ``data`` for test sends: seed 002's example for each event type.

``sample_data`` fills in the store's id and currency and the current time, so a test send
looks like a real delivery of that type from this store.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

from shopkeep.core.timefmt import iso, iso_date
from shopkeep.events.catalogue import LEGACY_ALIASES

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

SAMPLES: dict[str, dict[str, Any]] = {
    "order.received": {
        "id": 12345,
        "tenant_id": "store_abc123",
        "user_id": 456,
        "order_number": "ORD-A1B2C3D4E5",
        "customer_email": "player@example.com",
        "customer_name": "John Doe",
        "customer_phone": "+1234567890",
        "billing_address": {
            "line1": "123 Main St",
            "city": "New York",
            "state": "NY",
            "postal_code": "10001",
            "country": "US"
        },
        "shipping_address": {
            "line1": "123 Main St",
            "city": "New York",
            "state": "NY",
            "postal_code": "10001",
            "country": "US"
        },
        "subtotal": "29.99",
        "tax": "0.00",
        "total": "29.99",
        "currency": "USD",
        "status": "processing",
        "payment_status": "paid",
        "payment_gateway": "stripe",
        "gateway_payment_id": "pi_1234567890",
        "paid_at": "2025-01-20T14:30:00.000000Z",
        "is_test_order": False,
        "metadata": {},
        "payment_method": "Stripe",
        "payment_gateway_icon": "stripe.svg",
        "items": [
            {
                "id": 789,
                "product_id": 101,
                "product_name": "VIP Rank",
                "quantity": 1,
                "unit_price": "29.99",
                "total": "29.99",
                "delivery_status": "pending"
            }
        ],
        "created_at": "2025-01-20T14:30:00.000000Z",
        "updated_at": "2025-01-20T14:30:00.000000Z"
    },
    "order.refunded": {
        "id": 12345,
        "order_number": "ORD-A1B2C3D4E5",
        "customer_email": "player@example.com",
        "customer_name": "John Doe",
        "refund_amount": "29.99",
        "original_total": "29.99",
        "currency": "USD",
        "status": "refunded",
        "payment_status": "refunded",
        "reason": "Customer request",
        "refunded_at": "2025-01-21T10:00:00.000000Z"
    },
    "payment.failed": {
        "order_id": 12345,
        "order_number": "ORD-A1B2C3D4E5",
        "customer_email": "player@example.com",
        "amount": "29.99",
        "currency": "USD",
        "payment_gateway": "stripe",
        "error_code": "card_declined",
        "error_message": "Your card was declined. Please try a different payment method.",
        "failed_at": "2025-01-20T14:31:00.000000Z"
    },
    "subscription.created": {
        "id": 567,
        "tenant_id": "store_abc123",
        "customer_id": 456,
        "product_id": 102,
        "order_id": 12345,
        "status": "active",
        "payment_gateway": "stripe",
        "gateway_subscription_id": "sub_1234567890",
        "gateway_customer_id": "cus_1234567890",
        "gateway_plan_id": "price_1234567890",
        "quantity": 1,
        "current_period_start": "2025-01-20T00:00:00.000000Z",
        "current_period_end": "2025-02-20T00:00:00.000000Z",
        "cancel_at_period_end": False,
        "trial_starts_at": None,
        "trial_ends_at": None,
        "metadata": {},
        "customer": {
            "id": 456,
            "email": "player@example.com",
            "name": "John Doe"
        },
        "product": {
            "id": 102,
            "name": "VIP Monthly",
            "price": "9.99",
            "billing_interval": "month"
        },
        "created_at": "2025-01-20T14:30:00.000000Z",
        "updated_at": "2025-01-20T14:30:00.000000Z"
    },
    "subscription.renewed": {
        "id": 567,
        "customer_id": 456,
        "product_id": 102,
        "status": "active",
        "payment_gateway": "stripe",
        "gateway_subscription_id": "sub_1234567890",
        "amount": "9.99",
        "currency": "USD",
        "current_period_start": "2025-02-20T00:00:00.000000Z",
        "current_period_end": "2025-03-20T00:00:00.000000Z",
        "renewed_at": "2025-02-20T00:01:00.000000Z",
        "next_billing_date": "2025-03-20",
        "customer": {
            "id": 456,
            "email": "player@example.com",
            "name": "John Doe"
        },
        "product": {
            "id": 102,
            "name": "VIP Monthly",
            "price": "9.99"
        }
    },
    "subscription.cancelled": {
        "id": 567,
        "customer_id": 456,
        "product_id": 102,
        "status": "canceled",
        "payment_gateway": "stripe",
        "gateway_subscription_id": "sub_1234567890",
        "cancel_at_period_end": True,
        "canceled_at": "2025-01-25T10:00:00.000000Z",
        "current_period_end": "2025-02-20T00:00:00.000000Z",
        "ends_at": "2025-02-20",
        "reason": "Customer requested cancellation",
        "customer": {
            "id": 456,
            "email": "player@example.com",
            "name": "John Doe"
        },
        "product": {
            "id": 102,
            "name": "VIP Monthly"
        }
    },
    "subscription.payment_failed": {
        "id": 567,
        "customer_id": 456,
        "product_id": 102,
        "status": "past_due",
        "payment_gateway": "stripe",
        "gateway_subscription_id": "sub_1234567890",
        "amount": "9.99",
        "currency": "USD",
        "error_code": "card_declined",
        "error_message": "Your card was declined",
        "attempt_count": 1,
        "next_retry_at": "2025-02-23T00:00:00.000000Z",
        "customer": {
            "id": 456,
            "email": "player@example.com",
            "name": "John Doe"
        },
        "product": {
            "id": 102,
            "name": "VIP Monthly"
        },
        "failed_at": "2025-02-20T00:05:00.000000Z"
    },
    "customer.created": {
        "id": 456,
        "tenant_id": "store_abc123",
        "email": "player@example.com",
        "name": "John Doe",
        "country": "US",
        "country_name": "United States",
        "discord_id": "123456789012345678",
        "discord_username": "player#1234",
        "steam_id": None,
        "steam_username": None,
        "referral_code": "PLAYER123",
        "referred_by_customer_id": None,
        "created_at": "2025-01-20T14:30:00.000000Z"
    },
    "delivery.completed": {
        "order_id": 12345,
        "order_number": "ORD-A1B2C3D4E5",
        "customer_email": "player@example.com",
        "customer_name": "John Doe",
        "delivery_type": "rcon",
        "items": [
            {
                "product_id": 101,
                "product_name": "VIP Rank",
                "quantity": 1,
                "delivery_status": "delivered",
                "delivered_at": "2025-01-20T14:35:00.000000Z"
            }
        ],
        "server": {
            "id": 1,
            "name": "Main Server"
        },
        "completed_at": "2025-01-20T14:35:00.000000Z"
    },
    "delivery.failed": {
        "order_id": 12345,
        "order_number": "ORD-A1B2C3D4E5",
        "customer_email": "player@example.com",
        "customer_name": "John Doe",
        "delivery_type": "rcon",
        "items": [
            {
                "product_id": 101,
                "product_name": "VIP Rank",
                "quantity": 1,
                "delivery_status": "failed"
            }
        ],
        "error": "Connection refused: Unable to reach game server",
        "error_code": "RCON_CONNECTION_FAILED",
        "attempt_count": 3,
        "server": {
            "id": 1,
            "name": "Main Server"
        },
        "failed_at": "2025-01-20T14:36:00.000000Z"
    },
    "ticket.created": {
        "ticket_id": 789,
        "subject": "Order not delivered",
        "message": ("I purchased VIP rank but haven't received it yet. "
                    "My order number is ORD-A1B2C3D4E5."),
        "priority": "normal",
        "status": "open",
        "category": "orders",
        "customer_id": 456,
        "customer_email": "player@example.com",
        "customer_name": "John Doe",
        "order_id": 12345,
        "order_number": "ORD-A1B2C3D4E5",
        "created_at": "2025-01-20T15:00:00.000000Z"
    },
    "ticket.reply": {
        "ticket_id": 789,
        "message_id": 1234,
        "subject": "Order not delivered",
        "message": ("I tried logging in again but still don't see my VIP rank. "
                    "Here's a screenshot of my profile."),
        "status": "open",
        "customer_id": 456,
        "customer_email": "player@example.com",
        "customer_name": "John Doe",
        "attachments": [
            {
                "filename": "screenshot.png",
                "url": "https://store.example.com/attachments/abc123.png",
                "size": 245678
            }
        ],
        "replied_at": "2025-01-20T16:30:00.000000Z"
    },
    "dispute.created": {
        "dispute_id": "dp_1234567890",
        "order_id": 12345,
        "order_number": "ORD-A1B2C3D4E5",
        "customer_email": "player@example.com",
        "amount": 2999,
        "currency": "USD",
        "reason": "fraudulent",
        "reason_description": "Customer claims they did not authorize the purchase",
        "status": "needs_response",
        "payment_gateway": "stripe",
        "charge_id": "ch_1234567890",
        "evidence_due_by": "2025-02-05T23:59:59.000000Z",
        "due_by": "2025-02-05",
        "created_at": "2025-01-25T09:00:00.000000Z"
    },
    "dispute.resolved": {
        "dispute_id": "dp_1234567890",
        "order_id": 12345,
        "order_number": "ORD-A1B2C3D4E5",
        "amount": 2999,
        "currency": "USD",
        "status": "won",
        "reason": "fraudulent",
        "payment_gateway": "stripe",
        "charge_id": "ch_1234567890",
        "net_amount_impact": 0,
        "resolved_at": "2025-02-10T14:00:00.000000Z"
    },
    "product.created": {
        "product_id": 103,
        "name": "Diamond Sword",
        "slug": "diamond-sword",
        "description": "A powerful diamond sword for your adventures",
        "price": "14.99",
        "currency": "USD",
        "type": "digital",
        "category": "Weapons",
        "category_id": 5,
        "is_active": True,
        "is_featured": False,
        "stock_quantity": None,
        "stock_enabled": False,
        "created_at": "2025-01-20T12:00:00.000000Z"
    },
    "product.updated": {
        "product_id": 103,
        "name": "Diamond Sword",
        "slug": "diamond-sword",
        "price": "12.99",
        "currency": "USD",
        "is_active": True,
        "changes": {
            "price": {
                "old": "14.99",
                "new": "12.99"
            }
        },
        "updated_at": "2025-01-21T10:30:00.000000Z"
    },
    "product.deleted": {
        "product_id": 103,
        "name": "Diamond Sword",
        "slug": "diamond-sword",
        "deleted_at": "2025-01-22T09:00:00.000000Z"
    }
}


def _refresh(value: Any, *, now: datetime, tenant_id: str, currency: str, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _refresh(v, now=now, tenant_id=tenant_id, currency=currency, key=k)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_refresh(v, now=now, tenant_id=tenant_id, currency=currency) for v in value]
    if isinstance(value, str):
        if key == "tenant_id":
            return tenant_id
        if key == "currency":
            return currency
        if _TIMESTAMP.match(value):
            return iso(now)
        if _DATE.match(value):
            return iso_date(now)
    return value


def sample_data(event_type: str, *, now: datetime, tenant_id: str, currency: str) -> dict:
    """Legacy names get the ``order.received`` example: seed 002 gives them its structure."""
    example = SAMPLES[LEGACY_ALIASES.get(event_type, event_type)]
    return _refresh(copy.deepcopy(example), now=now, tenant_id=tenant_id, currency=currency)
