"""The platform Stripe account's webhook: ``POST /platform/billing/stripe/webhook/``."""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopkeep.platform.billing import SIGNATURE_TOLERANCE, event_apply
from shopkeep.stores.limits import billing_on

logger = logging.getLogger("shopkeep.platform.billing")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
def stripe_billing_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.PLATFORM_STRIPE_WEBHOOK_SECRET
    if not billing_on() or not secret:
        return _error(404, "not_found", "Platform billing is off.")
    try:
        event = stripe.Webhook.construct_event(
            request.body, request.headers.get("Stripe-Signature"), secret,
            tolerance=SIGNATURE_TOLERANCE).to_dict()
    except stripe.SignatureVerificationError:
        logger.warning("platform billing webhook: bad signature")
        return _error(400, "invalid_signature", "The Stripe-Signature header does not match.")
    except (ValueError, UnicodeDecodeError, TypeError, AttributeError):
        return _error(400, "invalid_body", "The body is not a Stripe event.")
    if not event.get("id") or not isinstance((event.get("data") or {}).get("object"), dict):
        return _error(400, "invalid_body", "The body is not a Stripe event.")
    return JsonResponse({"received": True, "outcome": event_apply(event)})
