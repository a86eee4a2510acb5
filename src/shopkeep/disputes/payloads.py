"""Event ``data`` for disputes, as seed 002: amounts in minor units (integers)."""

from __future__ import annotations

from typing import Any

from shopkeep.core.timefmt import iso, iso_date
from shopkeep.disputes.models import Dispute


def created_data(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": dispute.gateway_dispute_id,
        "order_id": dispute.order_id,
        "order_number": dispute.order.order_number,
        "customer_email": dispute.order.customer_email,
        "amount": dispute.amount_minor,
        "currency": dispute.currency,
        "reason": dispute.reason,
        "reason_description": dispute.reason_description,
        "status": dispute.status,
        "payment_gateway": dispute.payment_gateway,
        "charge_id": dispute.charge_id or None,
        "evidence_due_by": iso(dispute.evidence_due_by),
        "due_by": iso_date(dispute.evidence_due_by),
        "created_at": iso(dispute.created_at),
    }


def resolved_data(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": dispute.gateway_dispute_id,
        "order_id": dispute.order_id,
        "order_number": dispute.order.order_number,
        "amount": dispute.amount_minor,
        "currency": dispute.currency,
        "status": dispute.status,
        "reason": dispute.reason,
        "payment_gateway": dispute.payment_gateway,
        "charge_id": dispute.charge_id or None,
        "net_amount_impact": dispute.net_amount_impact,
        "resolved_at": iso(dispute.resolved_at),
    }
