"""PayPal's two inbound doors, one pair per store:

``POST /pay/paypal/<store id>/webhook/``: webhook events. Verified with PayPal's
verify-webhook-signature call before anything is read from them (see docs/payments.md for
why that call and not the certificate check). Answers: 400 for missing transmission headers,
a body that is not an event, or a signature PayPal does not confirm (nothing is recorded);
503 when PayPal cannot be asked (PayPal delivers again, for up to three days); 200 for an
event already received (by its id: applied once), for a type Shopkeep does not use, and for
everything applied or queued.

``GET /pay/paypal/<store id>/return/``: where PayPal sends the buyer after approving. The
capture is made here, so the buyer sees "paid" at once; the same capture is made by the worker
from ``CHECKOUT.ORDER.APPROVED`` and by the periodic sweep, so a buyer who never comes back
pays exactly the same. The redirect itself pays nothing: only PayPal's capture answer does.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from shopkeep.orders.models import Order
from shopkeep.payments.connection_events import (
    connection_event_seen,
    connection_signature_failed,
)
from shopkeep.payments.gateways.base import CallbackRejected, GatewayError
from shopkeep.payments.gateways.paypal import PayPalGateway, return_target
from shopkeep.payments.models import PayPalConnection, PayPalEvent
from shopkeep.payments.paypal_events import WORKER_EVENTS, notices_for
from shopkeep.payments.paypal_worker import paypal_capture_apply, paypal_subscription_return
from shopkeep.payments.services import notice_receive
from shopkeep.payments.tasks import paypal_capture, paypal_sale_event
from shopkeep.payments.views import body_too_large

logger = logging.getLogger("shopkeep.payments.paypal")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _connection(store_id: str) -> PayPalConnection | None:
    return (PayPalConnection.objects.select_related("store")
            .filter(store__public_id=store_id).first())


@csrf_exempt
@require_POST
def paypal_webhook(request: HttpRequest, store_id: str) -> HttpResponse:
    connection = _connection(store_id)
    if connection is None:
        return _error(404, "not_found", "No PayPal connection here.")
    if body_too_large(request):
        return _error(413, "too_large", "Body too large.")
    try:
        event = PayPalGateway(connection).verify_webhook(request)
    except CallbackRejected as exc:
        connection_signature_failed(connection=connection)
        logger.warning("store %s: paypal webhook refused: %s", connection.store_id, exc)
        return _error(400, "invalid_signature", str(exc))
    except GatewayError as exc:
        logger.warning("store %s: paypal webhook not verified yet: %s", connection.store_id,
                       exc.code)
        response = _error(503, "verification_unavailable",
                          "PayPal could not be asked to verify this event; send it again.")
        response["Retry-After"] = "60"
        return response
    kind = str(event["event_type"])
    connection_event_seen(connection=connection, event_type=kind)
    try:
        with transaction.atomic():
            record = PayPalEvent.objects.create(
                store=connection.store, event_id=str(event["id"])[:128], event_type=kind[:64],
                resource_id=str(event["resource"].get("id") or "")[:128])
            outcomes = _apply(connection, event)
            record.outcome = "; ".join(outcomes)[:300]
            record.save(update_fields=["outcome"])
    except IntegrityError:
        return JsonResponse({"received": True, "outcomes": ["duplicate"]})
    return JsonResponse({"received": True, "outcomes": outcomes})


def _apply(connection: PayPalConnection, event: dict) -> list[str]:
    """Inside the transaction that records the event: a failure rolls both back, so
    PayPal's redelivery is applied instead of being taken for a duplicate."""
    kind = str(event["event_type"])
    if kind in WORKER_EVENTS:
        if kind == "CHECKOUT.ORDER.APPROVED":
            paypal_capture.enqueue(connection.pk, str(event["resource"].get("id") or ""))
        else:
            paypal_sale_event.enqueue(connection.pk, event)
        return [f"queued: {kind}"]
    notices = notices_for(event, store=connection.store)
    if notices is None:
        return [f"ignored: {kind} is not used by Shopkeep"]
    if not notices:
        return ["ignored: nothing of this store's"]
    return [notice_receive(store=connection.store, gateway="paypal", notice=n)
            for n in notices]


@require_GET
def paypal_return(request: HttpRequest, store_id: str) -> HttpResponse:
    connection = _connection(store_id)
    target = return_target(request.GET.get("r", "")[:4000])
    if connection is None or target is None:
        return _error(404, "not_found", "This PayPal return link is not valid.")
    order = Order.objects.filter(store=connection.store, payment_gateway="paypal",
                                 order_number=str(target["o"])).first()
    if order is None:
        return _error(404, "not_found", "This PayPal return link is not valid.")
    subscription_id = request.GET.get("subscription_id", "")[:64]
    paypal_order_id = request.GET.get("token", "")[:64]
    try:
        if subscription_id and subscription_id == order.gateway_session_id:
            outcomes = paypal_subscription_return(connection=connection,
                                                  subscription_id=subscription_id)
        elif paypal_order_id and paypal_order_id == order.gateway_session_id:
            outcomes = paypal_capture_apply(connection_id=connection.pk,
                                            paypal_order_id=paypal_order_id)
        else:
            outcomes = ["ignored: the return names another PayPal order"]
    except GatewayError as exc:
        # The worker captures it from the webhook, or the sweep does: the order page says
        # "waiting for the payment to be confirmed" until then.
        logger.warning("store %s: capture on return of %s failed: %s", connection.store_id,
                       order.order_number, exc.code)
        outcomes = [f"capture later: {exc.code}"]
    logger.info("paypal return for %s: %s", order.order_number, "; ".join(outcomes))
    return HttpResponseRedirect(str(target["n"]), status=303)
