"""Stripe's webhook endpoint, one per store: ``POST /pay/stripe/<store id>/webhook/``.

Answers: 400 for a bad or missing signature (or one older than 5 minutes), 200 for an event
type Shopkeep does not use, 200 for the same event again (applied once). Events about
another store's orders are ignored, so one Stripe account connected to two stores, or a
crafted Checkout Session naming another store's order, changes nothing here.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopkeep.orders.models import Order
from shopkeep.payments.connection_events import (
    connection_event_seen,
    connection_signature_failed,
)
from shopkeep.payments.gateways.base import CallbackRejected
from shopkeep.payments.gateways.stripe import StripeGateway
from shopkeep.payments.gateways.stripe_events import CHARGE_EVENTS, notices_for
from shopkeep.payments.models import StripeConnection
from shopkeep.payments.services import notice_receive
from shopkeep.payments.tasks import stripe_charge_event
from shopkeep.payments.views import body_too_large

logger = logging.getLogger("shopkeep.payments.stripe")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest, store_id: str) -> HttpResponse:
    connection = (StripeConnection.objects.select_related("store")
                  .filter(store__public_id=store_id).first())
    if connection is None:
        return _error(404, "not_found", "No Stripe connection here.")
    if body_too_large(request):
        return _error(413, "too_large", "Body too large.")
    try:
        event = StripeGateway(connection).verify_event(request)
    except CallbackRejected as exc:
        connection_signature_failed(connection=connection)
        logger.warning("store %s: stripe webhook refused: %s", connection.store_id, exc)
        return _error(400, "invalid_signature", str(exc))
    connection_event_seen(connection=connection, event_type=str(event.get("type", "")))
    if bool(event.get("livemode")) != connection.livemode:
        return JsonResponse({"received": True, "ignored": "event from the other Stripe mode"})
    kind = str(event.get("type", ""))
    if kind in CHARGE_EVENTS:
        stripe_charge_event.enqueue(connection.pk, event)
        return JsonResponse({"received": True, "queued": kind})
    notices = notices_for(event)
    if notices is None:
        return JsonResponse({"received": True, "ignored": f"{kind} is not used by Shopkeep"})
    outcomes = []
    for notice in notices:
        if not Order.objects.filter(store=connection.store, payment_gateway="stripe",
                                    order_number=notice.reference).exists():
            # Not recorded either: another store's event id must not block that store's.
            outcomes.append("ignored: not an order of this store")
            continue
        outcomes.append(notice_receive(store=connection.store, gateway="stripe",
                                       notice=notice))
    return JsonResponse({"received": True, "outcomes": outcomes})
