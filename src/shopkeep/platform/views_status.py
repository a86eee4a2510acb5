"""The public status page: /status/, its JSON summary, its Atom feed and e-mail
subscriptions (double opt-in). No login; nothing on a GET changes anything."""

from __future__ import annotations

import threading
import time

from django import forms
from django.contrib import messages
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shopkeep.core.absolute import absolute_url
from shopkeep.core.timefmt import iso
from shopkeep.platform import status
from shopkeep.platform.models import Incident, IncidentUpdate, StatusSubscriber
from shopkeep.platform.status_services import (
    subscriber_confirm,
    subscriber_subscribe,
    subscriber_unsubscribe,
)

CACHE_SECONDS = 10.0  # a busy incident draws crowds: compute at most this often per process
_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, object]] = {}


def _snapshot():
    # Keyed by the newest incident change, so a posted update shows at once on every
    # process; the signals behind the computed states may be up to CACHE_SECONDS old.
    version = Incident.objects.aggregate(v=Max("updated_at"), n=Count("id"))
    key = f"{version['v']}:{version['n']}"
    with _cache_lock:
        hit = _cache.get(key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = status.compute()
    with _cache_lock:
        _cache.clear()
        _cache[key] = (time.monotonic(), value)
    return value


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254, label="E-mail address")


def _recent_incidents(limit: int = 20) -> list[Incident]:
    since = timezone.now() - timezone.timedelta(days=status.HISTORY_DAYS)
    return list(Incident.objects.filter(resolved_at__gte=since)
                .prefetch_related("updates")[:limit])


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    components, incidents = _snapshot()
    indicator, description = status.overall(components)
    now = timezone.now()
    history = status.history()
    rows = [{"component": c, "days": history[c.key],
             "uptime": status.uptime_percent(history[c.key])} for c in components]
    return render(request, "platform/status.html", {
        "indicator": indicator, "description": description, "rows": rows,
        "active": [i for i in incidents if i.kind == Incident.Kind.INCIDENT],
        "maintenance": [i for i in incidents if i.kind == Incident.Kind.MAINTENANCE],
        "recent": _recent_incidents(), "form": SubscribeForm(), "now": now,
    })


def _incident_json(incident: Incident) -> dict:
    return {
        "id": incident.pk, "kind": incident.kind, "name": incident.title,
        "status": incident.status, "impact": incident.impact,
        "components": incident.components,
        "started_at": iso(incident.starts_at),
        "scheduled_until": iso(incident.ends_at) if incident.ends_at else None,
        "resolved_at": iso(incident.resolved_at) if incident.resolved_at else None,
        "updated_at": iso(incident.updated_at),
        "updates": [{"status": u.status, "body": u.body, "created_at": iso(u.created_at)}
                    for u in incident.updates.all()],
    }


@require_GET
def summary(request: HttpRequest) -> JsonResponse:
    components, incidents = _snapshot()
    indicator, description = status.overall(components)
    response = JsonResponse({
        "page": {"url": absolute_url(reverse("status:page"), request=request),
                 "updated_at": iso(timezone.now())},
        "status": {"indicator": indicator, "description": description},
        "components": [{"id": c.key, "name": c.name, "status": c.state,
                        "reasons": c.reasons} for c in components],
        "incidents": [_incident_json(i) for i in incidents
                      if i.kind == Incident.Kind.INCIDENT],
        "scheduled_maintenances": [_incident_json(i) for i in incidents
                                   if i.kind == Incident.Kind.MAINTENANCE],
    })
    response["Cache-Control"] = f"public, max-age={int(CACHE_SECONDS)}"
    return response


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    page_url = absolute_url(reverse("status:page"), request=request)
    atom = feedgenerator.Atom1Feed(
        title="Platform status", link=page_url,
        description="Incidents and maintenance", language="en",
        feed_url=absolute_url(reverse("status:feed"), request=request),
        feed_guid=page_url)
    updates = IncidentUpdate.objects.select_related("incident").order_by("-created_at")[:50]
    for update in updates:
        incident = update.incident
        atom.add_item(
            title=f"{incident.title}: {update.get_status_display()}",
            link=f"{page_url}#incident-{incident.pk}",
            description=update.body,
            unique_id=f"{page_url}#update-{update.pk}",
            pubdate=update.created_at, updateddate=update.created_at,
            categories=incident.component_labels())
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    return response


@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid e-mail address to subscribe.")
        return redirect("status:page")
    subscriber_subscribe(email=form.cleaned_data["email"])
    messages.success(request, "Check your inbox: we sent a link to confirm the "
                     "subscription. Nothing else is sent until you click it.")
    return redirect("status:page")


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    # The link shows a button: mail scanners follow links, and a GET must change nothing.
    known = StatusSubscriber.objects.filter(token=token[:64]).first()
    if request.method == "POST" and known is not None:
        subscriber_confirm(token=known.token)
        messages.success(request, f"Subscribed: {known.email} gets an e-mail when an "
                         "incident or maintenance is posted.")
        return redirect("status:page")
    return render(request, "platform/status_token.html", {
        "known": known, "action": "confirm",
        "confirmed": bool(known and known.confirmed_at)}, status=200 if known else 404)


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    known = StatusSubscriber.objects.filter(token=token[:64]).first()
    if request.method == "POST" and known is not None:
        subscriber_unsubscribe(token=known.token)
        messages.success(request, "Unsubscribed: no more status e-mails will be sent.")
        return redirect("status:page")
    return render(request, "platform/status_token.html", {"known": known,
                                                          "action": "unsubscribe"},
                  status=200 if known else 404)
