"""The settings page's webhook lines, shared by every gateway's connection model
(StripeConnection, PayPalConnection): when the first verified event arrived, the latest one,
and the last request that failed verification. Conditional updates, no lock."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from shopkeep.payments.models import PayPalConnection, StripeConnection

Connection = StripeConnection | PayPalConnection


def connection_event_seen(*, connection: Connection, event_type: str,
                          at: datetime | None = None) -> None:
    at = at or timezone.now()
    rows = type(connection).objects.filter(pk=connection.pk)
    rows.filter(first_event_at__isnull=True).update(first_event_at=at)
    rows.update(last_event_at=at, last_event_type=event_type[:64])


def connection_signature_failed(*, connection: Connection) -> None:
    type(connection).objects.filter(pk=connection.pk).update(
        last_signature_failure_at=timezone.now())
