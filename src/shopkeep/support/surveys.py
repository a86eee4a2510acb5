"""Satisfaction surveys: a one-time link per closing, answered without signing in."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.ids import hash_secret, new_secret
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.support.models import Survey, Ticket


def survey_create(*, ticket: Ticket, now: datetime) -> str:
    """Called in the closing transaction; returns the absolute link (shown nowhere else)."""
    token = new_secret("sv", 24)
    Survey.objects.create(store=ticket.store, ticket=ticket, token_hash=hash_secret(token),
                          created_at=now)
    return absolute_url(reverse("support_survey", args=[token]))


def survey_for_token(token: str) -> Survey | None:
    if not token.startswith("sv_") or len(token) > 100:
        return None
    return Survey.objects.select_related("ticket", "store").filter(
        token_hash=hash_secret(token)).first()


@transaction.atomic
def survey_answer(*, token: str, rating: int, comment: str = "") -> Survey:
    survey = survey_for_token(token)
    if survey is None:
        raise ServiceError("unknown_survey", "This survey link is not valid.", status=404)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ServiceError("invalid_rating", "Choose a rating from 1 to 5.", field="rating")
    comment = (comment or "").strip()[:2000]
    # The conditional UPDATE makes the link one-time even for two simultaneous answers.
    answered = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        answered_at=timezone.now(), rating=rating, comment=comment)
    if not answered:
        raise Conflict("survey_answered", "This survey was already answered. Thank you!")
    survey.refresh_from_db()
    audit_record(store=survey.store, actor=Actor.system("survey link"), action="survey.answered",
                 obj=survey.ticket, details={"rating": rating})
    return survey


def csat(*, since: timedelta | None = timedelta(days=90)) -> dict:
    """CSAT for the staff console: answered surveys, average, and share of 4s and 5s."""
    surveys = Survey.objects.filter(answered_at__isnull=False)
    if since is not None:
        surveys = surveys.filter(answered_at__gte=timezone.now() - since)
    figures = surveys.aggregate(count=Count("id"), average=Avg("rating"),
                                satisfied=Count("id", filter=Q(rating__gte=4)))
    count = figures["count"] or 0
    return {"count": count, "average": round(figures["average"] or 0, 2),
            "satisfied_percent": round(100 * figures["satisfied"] / count) if count else None,
            "sent": Survey.objects.count()}
