"""The payment hand-off pages in the store's own look: the buyer sees the store's name, logo
and theme (not Shopkeep's dashboard navigation) on the sandbox's hosted page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from shopkeep.payments.views import sandbox_pay, sandbox_pay_step
from shopkeep.storefront.shop import render_page
from shopkeep.stores.models import Store


@require_http_methods(["GET", "POST"])
def sandbox_pay_branded(request: HttpRequest, session_id: str) -> HttpResponse:
    from shopkeep.payments.models import SandboxSession

    session = SandboxSession.objects.filter(pk=session_id).only("store_public_id").first()
    store = (Store.objects.filter(public_id=session.store_public_id).first()
             if session is not None else None)
    if store is None:
        return sandbox_pay(request, session_id)  # no store to brand with: the plain page
    step = sandbox_pay_step(request, session_id)
    if isinstance(step, HttpResponse):
        return step
    response = render_page(request, store, "sandbox_pay.html", {**step, "robots_noindex": True},
                           status=402 if step["error"] else 200)
    response["Cache-Control"] = "private, no-store"
    return response
