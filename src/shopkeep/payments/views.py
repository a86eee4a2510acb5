"""The sandbox's hosted payment page and the inbound callback endpoint of each gateway."""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from shopkeep.core.money import from_minor
from shopkeep.payments.gateways import available_gateways, get_gateway
from shopkeep.payments.gateways.base import CallbackRejected, GatewayError
from shopkeep.payments.gateways.sandbox import SandboxGateway, store_of_reference
from shopkeep.payments.models import SandboxSession
from shopkeep.payments.services import notice_receive

MAX_CALLBACK_BYTES = 256 * 1024


def sandbox_pay_step(request: HttpRequest, session_id: str) -> HttpResponse | dict:
    """The sandbox's hosted page without its rendering: a redirect when paid (or already
    complete), else the page's context. The storefront renders it in the store's theme."""
    session = SandboxSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Http404("No such payment session")
    if session.status == SandboxSession.Status.COMPLETE:
        return HttpResponseRedirect(session.success_url)
    error = ""
    card = ""
    if request.method == "POST":
        card = request.POST.get("card_number", "")[:40]
        try:
            ok, message = SandboxGateway().pay(session_id=session.pk, card_number=card)
        except GatewayError as exc:
            ok, message = False, exc.message
        if ok:
            return HttpResponseRedirect(session.success_url)
        error = message
    return {"session": session, "amount": from_minor(session.amount_minor, session.currency),
            "error": error, "card": card}


@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, session_id: str) -> HttpResponse:
    step = sandbox_pay_step(request, session_id)
    if isinstance(step, HttpResponse):
        return step
    return render(request, "payments/sandbox_pay.html", step,
                  status=402 if step["error"] else 200)


def body_too_large(request: HttpRequest) -> bool:
    # Check the declared length before reading: past DATA_UPLOAD_MAX_MEMORY_SIZE (1 MiB),
    # reading request.body raises RequestDataTooBig, which Django answers 400, not 413.
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_CALLBACK_BYTES:
            return True
        return len(request.body) > MAX_CALLBACK_BYTES
    except ValueError:
        return False  # a malformed length: let the signature check refuse the request
    except RequestDataTooBig:
        return True


@csrf_exempt
@require_POST
def callback(request: HttpRequest, gateway: str) -> HttpResponse:
    """Where a provider posts its notices. Signed; a replay is answered 200 and ignored."""
    if gateway not in available_gateways():
        raise Http404("Unknown gateway")
    if body_too_large(request):
        return JsonResponse({"error": {"code": "too_large", "message": "Body too large."}},
                            status=413)
    try:
        notices = get_gateway(gateway).parse_callback(request)
    except CallbackRejected as exc:
        return JsonResponse({"error": {"code": "invalid_callback", "message": str(exc)}},
                            status=400)
    outcomes = []
    for notice in notices:
        # The sandbox's books name the account (store) each payment was made for.
        store = store_of_reference(notice.reference)
        if store is None:
            outcomes.append("ignored: no store for this payment")
            continue
        try:
            outcomes.append(notice_receive(store=store, gateway=gateway, notice=notice))
        except ValueError as exc:
            return JsonResponse({"error": {"code": "invalid_callback", "message": str(exc)}},
                                status=400)
    return HttpResponse(json.dumps({"received": len(notices), "outcomes": outcomes}),
                        content_type="application/json")
