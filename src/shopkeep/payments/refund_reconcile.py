"""Refunds still pending after a few minutes are settled by asking the gateway.

A refund stays ``pending`` when its execution could not finish: the worker died and the job
ran out of attempts, the gateway's answer was lost (a timeout after the money moved), or the
gateway reported it pending and the notice that should settle it never came. Every few
minutes this job asks the gateway about each one, by the refund's own idempotency key:

- the gateway made it and it succeeded: settle it (``order.refunded``, once: settling is
  conditional on the refund still being pending);
- it failed there: mark it failed, which frees its amount again;
- the gateway never made it: execute it now, with the same key;
- still pending there: leave it for the next round.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from shopkeep.orders.models import Refund
from shopkeep.orders.refunds import refund_fail, refund_key
from shopkeep.payments.flows import refund_execute, refund_settle
from shopkeep.payments.gateways import get_gateway
from shopkeep.payments.gateways.base import GatewayError

logger = logging.getLogger("shopkeep.refunds")
RECONCILE_AFTER = timedelta(minutes=5)


def refunds_reconcile(*, now: datetime | None = None, limit: int = 200) -> list[str]:
    """Periodic; returns one line per refund it changed or retried."""
    now = now or timezone.now()
    lines: list[str] = []
    stale = (Refund.objects.filter(status=Refund.Status.PENDING,
                                   created_at__lt=now - RECONCILE_AFTER)
             .select_related("order__store").order_by("created_at")[:limit])
    for refund in stale:
        order = refund.order
        try:
            found = get_gateway(order.payment_gateway, store=order.store).refund_lookup(
                payment_id=order.gateway_payment_id, idempotency_key=refund_key(refund))
        except GatewayError as exc:
            logger.warning("refund %s: cannot ask the gateway (%s); next round", refund.pk,
                           exc.code)
            continue
        if found is None:
            lines.append(f"refund {refund.pk}: not at the gateway, executed: "
                         f"{refund_execute(refund_id=refund.pk)}")
        elif found.status == "succeeded":
            if refund_settle(refund_id=refund.pk, gateway_refund_id=found.refund_id):
                lines.append(f"refund {refund.pk}: settled from the gateway")
        elif found.status == "failed":
            if refund_fail(refund_id=refund.pk, error="failed at the gateway"):
                lines.append(f"refund {refund.pk}: failed at the gateway")
        else:
            Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
                gateway_refund_id=found.refund_id)
    if lines:
        logger.warning("refund reconciliation: %s", "; ".join(lines))
    return lines
