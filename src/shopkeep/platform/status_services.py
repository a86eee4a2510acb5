"""Writes of the status page: incidents and their updates (staff), subscribers (anyone),
and the automatic samples behind the 90-day history (the scheduler)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import ServiceError
from shopkeep.platform import status
from shopkeep.platform.models import (
    COMPONENT_KEYS,
    Incident,
    IncidentUpdate,
    State,
    StatusDay,
    StatusSubscriber,
)
from shopkeep.stores.audit import Actor, audit_record

RESEND_AFTER = timedelta(minutes=10)


def _check(*, kind: str, status_value: str, impact: str, components: list[str]) -> None:
    allowed = (Incident.MAINTENANCE_STATUSES if kind == Incident.Kind.MAINTENANCE
               else Incident.INCIDENT_STATUSES)
    if status_value not in allowed:
        raise ServiceError("invalid_status", f"A {kind} cannot be “{status_value}”.",
                           field="status")
    if impact not in Incident.Impact.values:
        raise ServiceError("invalid_impact", "Pick an impact.", field="impact")
    if not components or any(c not in COMPONENT_KEYS for c in components):
        raise ServiceError("invalid_components", "Pick at least one affected component.",
                           field="components")


def _notify(incident: Incident, update: IncidentUpdate) -> None:
    """One queued mail per confirmed subscriber, in the caller's transaction."""
    from shopkeep.platform.tasks import send_status_email

    page = absolute_url(reverse("status:page"))
    subject = f"[{incident.get_status_display()}] {incident.title}"
    affected = ", ".join(incident.component_labels())
    for sub in StatusSubscriber.objects.filter(confirmed_at__isnull=False).only("email",
                                                                                 "token"):
        leave = absolute_url(reverse("status:unsubscribe", args=[sub.token]))
        body = (f"{incident.title}\n{incident.get_kind_display()}: "
                f"{incident.get_status_display()} (affects {affected})\n\n{update.body}\n\n"
                f"Status page: {page}\nStop these e-mails: {leave}\n")
        send_status_email.enqueue(to=[sub.email], subject=subject, body=body)


@transaction.atomic
def incident_create(*, actor: Actor, kind: str, title: str, impact: str,
                    components: list[str], status_value: str, body: str,
                    starts_at: datetime | None = None, ends_at: datetime | None = None,
                    notify: bool = True) -> Incident:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ServiceError("required", "A title and a first message are required.")
    _check(kind=kind, status_value=status_value, impact=impact, components=components)
    if kind == Incident.Kind.MAINTENANCE and impact != State.MAINTENANCE and not ends_at:
        raise ServiceError("window_required", "A maintenance window needs an end time.",
                           field="ends_at")
    now = timezone.now()
    if ends_at and starts_at and ends_at <= starts_at:
        raise ServiceError("invalid_window", "The window must end after it starts.",
                           field="ends_at")
    incident = Incident.objects.create(
        kind=kind, title=title[:200], impact=impact, components=list(dict.fromkeys(components)),
        status=status_value, starts_at=starts_at or now, ends_at=ends_at,
        resolved_at=now if status_value in Incident.CLOSED else None,
        created_by=actor.user, created_at=now, updated_at=now)
    update = IncidentUpdate.objects.create(incident=incident, status=status_value, body=body,
                                           author=actor.user, created_at=now)
    audit_record(store=None, actor=actor, action="status.incident_created", obj=incident,
                 details={"title": incident.title, "impact": impact, "kind": kind,
                          "components": incident.components})
    if notify:
        _notify(incident, update)
    return incident


@transaction.atomic
def incident_post_update(*, actor: Actor, incident_id: int, status_value: str, body: str,
                         impact: str | None = None, components: list[str] | None = None,
                         notify: bool = True) -> Incident:
    incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None:
        raise ServiceError("not_found", "No such incident.", status=404)
    body = body.strip()
    if not body:
        raise ServiceError("required", "Write what changed.", field="body")
    impact = impact or incident.impact
    components = components or incident.components
    _check(kind=incident.kind, status_value=status_value, impact=impact,
           components=components)
    now = timezone.now()
    incident.status, incident.impact = status_value, impact
    incident.components = list(dict.fromkeys(components))
    incident.resolved_at = (incident.resolved_at or now) if status_value in Incident.CLOSED \
        else None
    incident.updated_at = now
    incident.save()
    update = IncidentUpdate.objects.create(incident=incident, status=status_value, body=body,
                                           author=actor.user, created_at=now)
    audit_record(store=None, actor=actor, action="status.incident_updated", obj=incident,
                 details={"status": status_value, "impact": impact})
    if notify:
        _notify(incident, update)
    return incident


@transaction.atomic
def subscriber_subscribe(*, email: str) -> None:
    """The same answer whether the address is new, waiting or confirmed: the form must not
    tell anyone who subscribed. A waiting address gets the link again after 10 minutes."""
    from shopkeep.platform.tasks import send_status_email

    email = email.strip().lower()
    now = timezone.now()
    sub, created = StatusSubscriber.objects.select_for_update().get_or_create(email=email)
    if sub.confirmed_at is not None:
        return
    if not created and sub.confirmation_sent_at and now - sub.confirmation_sent_at < \
            RESEND_AFTER:
        return
    sub.confirmation_sent_at = now
    sub.save(update_fields=["confirmation_sent_at"])
    link = absolute_url(reverse("status:confirm", args=[sub.token]))
    send_status_email.enqueue(to=[email], subject="Confirm your status page subscription",
                              body=("Someone (hopefully you) asked for e-mail when the "
                                    f"platform has an incident or maintenance.\n\nConfirm: "
                                    f"{link}\n\nNot you? Ignore this e-mail; nothing more "
                                    "will be sent.\n"))


@transaction.atomic
def subscriber_confirm(*, token: str) -> StatusSubscriber | None:
    sub = StatusSubscriber.objects.select_for_update().filter(token=token).first()
    if sub is not None and sub.confirmed_at is None:
        sub.confirmed_at = timezone.now()
        sub.save(update_fields=["confirmed_at"])
    return sub


@transaction.atomic
def subscriber_unsubscribe(*, token: str) -> bool:
    return StatusSubscriber.objects.filter(token=token).delete()[0] > 0


def status_sample(*, now: datetime | None = None) -> dict[str, str]:
    """One automatic check of every component, added to its day. The web process's error
    rates are not visible to the worker that runs this: the sample uses database signals."""
    now = now or timezone.now()
    components, _ = status.compute(now=now, with_errors=False)
    day = now.date()
    result = {}
    with transaction.atomic():
        for c in components:
            computed = c.state
            outage = computed in (State.PARTIAL_OUTAGE, State.MAJOR_OUTAGE)
            degraded = computed == State.DEGRADED
            StatusDay.objects.get_or_create(component=c.key, day=day)
            StatusDay.objects.filter(component=c.key, day=day).update(
                samples=F("samples") + 1, outage=F("outage") + int(outage),
                degraded=F("degraded") + int(degraded))
            result[c.key] = computed
    return result
