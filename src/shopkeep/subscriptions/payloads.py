"""Event ``data`` for subscriptions, as seed 002's examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shopkeep.core.money import money_str
from shopkeep.core.timefmt import iso, iso_date
from shopkeep.subscriptions.models import Subscription


def _head(sub: Subscription) -> dict[str, Any]:
    """The fields renewed, cancelled and payment_failed open with, in the seed's order."""
    return {
        "id": sub.pk,
        "customer_id": sub.customer_id,
        "product_id": sub.product_id,
        "status": sub.status,
        "payment_gateway": sub.payment_gateway,
        "gateway_subscription_id": sub.gateway_subscription_id,
    }


def _customer(sub: Subscription) -> dict[str, Any]:
    return {"id": sub.customer_id, "email": sub.customer.email, "name": sub.customer.name}


def created_data(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.pk,
        "tenant_id": sub.store.public_id,
        "customer_id": sub.customer_id,
        "product_id": sub.product_id,
        "order_id": sub.order_id,
        "status": sub.status,
        "payment_gateway": sub.payment_gateway,
        "gateway_subscription_id": sub.gateway_subscription_id,
        "gateway_customer_id": sub.gateway_customer_id or None,
        "gateway_plan_id": sub.gateway_plan_id or None,
        "quantity": sub.quantity,
        "current_period_start": iso(sub.current_period_start),
        "current_period_end": iso(sub.current_period_end),
        "cancel_at_period_end": sub.cancel_at_period_end,
        "trial_starts_at": iso(sub.trial_starts_at),
        "trial_ends_at": iso(sub.trial_ends_at),
        "metadata": sub.metadata,
        "customer": _customer(sub),
        "product": {"id": sub.product_id, "name": sub.product.name,
                    "price": money_str(sub.amount, sub.currency),
                    "billing_interval": sub.billing_interval},
        "created_at": iso(sub.created_at),
        "updated_at": iso(sub.updated_at),
    }


def renewed_data(sub: Subscription, *, renewed_at: datetime) -> dict[str, Any]:
    return {
        **_head(sub),
        "amount": money_str(sub.amount, sub.currency),
        "currency": sub.currency,
        "current_period_start": iso(sub.current_period_start),
        "current_period_end": iso(sub.current_period_end),
        "renewed_at": iso(renewed_at),
        "next_billing_date": iso_date(sub.current_period_end),
        "customer": _customer(sub),
        "product": {"id": sub.product_id, "name": sub.product.name,
                    "price": money_str(sub.amount, sub.currency)},
    }


def cancelled_data(sub: Subscription) -> dict[str, Any]:
    return {
        **_head(sub),
        "cancel_at_period_end": sub.cancel_at_period_end,
        "canceled_at": iso(sub.canceled_at),
        "current_period_end": iso(sub.current_period_end),
        "ends_at": iso_date(sub.ends_at),
        "reason": sub.cancel_reason,
        "customer": _customer(sub),
        "product": {"id": sub.product_id, "name": sub.product.name},
    }


def payment_failed_data(sub: Subscription, *, error_code: str, error_message: str,
                        failed_at: datetime) -> dict[str, Any]:
    return {
        **_head(sub),
        "amount": money_str(sub.amount, sub.currency),
        "currency": sub.currency,
        "error_code": error_code,
        "error_message": error_message,
        "attempt_count": sub.attempt_count,
        "next_retry_at": iso(sub.next_retry_at),
        "customer": _customer(sub),
        "product": {"id": sub.product_id, "name": sub.product.name},
        "failed_at": iso(failed_at),
    }
