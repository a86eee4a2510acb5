"""Webhooks: endpoints (list, form, secret reveal and rotation, test sends), the delivery log
with each attempt, and redelivery. Sending happens in the dispatcher, never here."""

from __future__ import annotations

from datetime import UTC

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.forms_webhooks import (
    DeliveryFilterForm,
    EndpointForm,
    RedeliverFailedForm,
    TestSendForm,
)
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm
from shopkeep.webhooks import selectors, services
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint


def _endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    return get_for_store(WebhookEndpoint, request.store, pk=endpoint_id)


def _back(request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
    return redirect("dashboard:webhook_detail", store_slug=request.store.slug,
                    endpoint_id=endpoint.pk)


def _utc(value):
    # datetime-local inputs carry no zone; the forms say UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/webhooks/endpoint_list.html", {
        "endpoints": selectors.endpoints(store=request.store)})


def _save(request: HttpRequest, form: EndpointForm,
          endpoint: WebhookEndpoint | None) -> WebhookEndpoint | None:
    data = form.cleaned_data
    actor = Actor.for_user(request.user)
    try:
        if endpoint is None:
            return services.endpoint_create(
                store=request.store, actor=actor, url=data["url"], events=data["events"],
                all_events=data["all_events"], description=data["description"],
                format=data["format"])
        return services.endpoint_update(
            store=request.store, actor=actor, endpoint=endpoint, url=data["url"],
            events=data["events"], all_events=data["all_events"],
            description=data["description"], format=data["format"],
            is_active=data["is_active"])
    except ServiceError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None


@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = _save(request, form, None)
        if endpoint is not None:
            messages.success(request, "Endpoint created. Reveal its signing secret below.")
            return _back(request, endpoint)
    return render(request, "dashboard/webhooks/endpoint_form.html", {"form": form})


@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    initial = {"url": endpoint.url, "description": endpoint.description,
               "format": endpoint.format, "all_events": endpoint.all_events,
               "events": endpoint.events, "is_active": endpoint.is_active}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _save(request, form, endpoint):
        messages.success(request, "Endpoint saved.")
        return _back(request, endpoint)
    return render(request, "dashboard/webhooks/endpoint_detail.html", {
        "endpoint": endpoint, "form": form, "test_form": TestSendForm(),
        "redeliver_form": RedeliverFailedForm(),
        "recent": selectors.deliveries(store=request.store, endpoint=endpoint)[:10]})


@require_POST
@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    services.endpoint_delete(store=request.store, actor=Actor.for_user(request.user),
                             endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("dashboard:webhooks", store_slug=request.store.slug)


@never_cache
@require_POST
@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """A POST (not a link) so the secret never sits in history, caches or referrers."""
    endpoint = _endpoint(request, endpoint_id)
    secret = services.endpoint_reveal_secret(store=request.store,
                                             actor=Actor.for_user(request.user),
                                             endpoint=endpoint)
    return render(request, "dashboard/webhooks/secret.html", {
        "endpoint": endpoint, "secret": secret})


@require_POST
@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = services.endpoint_rotate_secret(store=request.store,
                                               actor=Actor.for_user(request.user),
                                               endpoint=_endpoint(request, endpoint_id))
    messages.success(request, "New secret created; the old one keeps signing until "
                     f"{endpoint.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC.")
    return _back(request, endpoint)


@require_POST
@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an event type to test.")
        return _back(request, endpoint)
    delivery = services.webhook_test_send(store=request.store,
                                          actor=Actor.for_user(request.user),
                                          endpoint=endpoint,
                                          event_type=form.cleaned_data["event_type"])
    messages.success(request, f"Test {delivery.event_type} queued as {delivery.public_id}; "
                     "it appears in the delivery log once sent.")
    return _back(request, endpoint)


@require_POST
@store_view(Perm.WEBHOOKS_MANAGE)
def endpoint_redeliver_failed(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    form = RedeliverFailedForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the time to redeliver failed deliveries from.")
        return _back(request, endpoint)
    count = services.deliveries_redeliver_failed(
        store=request.store, actor=Actor.for_user(request.user), endpoint=endpoint,
        since=_utc(form.cleaned_data["since"]))
    messages.success(request, f"{count} failed deliver{'y' if count == 1 else 'ies'} queued "
                     "again.")
    return _back(request, endpoint)


@store_view(Perm.WEBHOOKS_MANAGE)
def delivery_list(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    filters = DeliveryFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.deliveries(store=request.store, endpoint=endpoint,
                              status=data.get("status") or "",
                              event_type=data.get("event_type") or "",
                              since=_utc(data.get("since")), until=_utc(data.get("until")))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/webhooks/delivery_list.html", {
        "endpoint": endpoint, "page": page, "filters": filters,
        "invalid_filters": filters.is_bound and not filters.is_valid()})


@store_view(Perm.WEBHOOKS_MANAGE)
def delivery_detail(request: HttpRequest, endpoint_id: int, delivery_id: str) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_for_store(WebhookDelivery.objects.filter(endpoint=endpoint), request.store,
                             public_id=delivery_id)
    return render(request, "dashboard/webhooks/delivery_detail.html", {
        "endpoint": endpoint, "delivery": delivery, "attempts": delivery.attempts.all()})


@require_POST
@store_view(Perm.WEBHOOKS_MANAGE)
def delivery_resend(request: HttpRequest, endpoint_id: int, delivery_id: str) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_for_store(WebhookDelivery.objects.filter(endpoint=endpoint), request.store,
                             public_id=delivery_id)
    try:
        services.delivery_redeliver(store=request.store, actor=Actor.for_user(request.user),
                                    delivery=delivery)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{delivery.public_id} queued again (same id).")
    return redirect("dashboard:webhook_delivery", store_slug=request.store.slug,
                    endpoint_id=endpoint.pk, delivery_id=delivery.public_id)
