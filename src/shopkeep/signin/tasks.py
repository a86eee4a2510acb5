"""Hourly: forget sign-in attempts a day after they expired, and Steam nonces older than
python3-openid's clock skew (older assertions are refused by their timestamp anyway)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from shopkeep.signin.models import SigninAttempt
from shopkeep.signin.steam import nonces_prune

KEEP_ATTEMPTS = timedelta(days=1)  # long enough to read a failure in the admin or the logs


@task()
def signin_prune() -> int:
    cutoff = timezone.now() - KEEP_ATTEMPTS
    attempts, _ = SigninAttempt.objects.filter(expires_at__lt=cutoff).delete()
    return attempts + nonces_prune()
