"""``Idempotency-Key`` for POSTs that create orders or refunds (Stripe's semantics).

- The same key with the same request replays the first answer (status and body) and does
  nothing again; the replay carries ``Idempotent-Replayed: true``.
- The same key with a different request is ``422 idempotency_key_reused``.
- A key whose first request is still running is ``409 idempotency_key_in_use``.
- Refusals (4xx) are stored and replayed too; an unexpected crash frees the key for a retry.
- Keys are kept 24 hours (``idempotency_keys_prune``).

The key row is committed *before* the work starts, so two concurrent requests with one key
cannot both run: the second one's INSERT hits the unique constraint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.orders.models import IdempotencyKey
from shopkeep.stores.models import Store

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)


def _check_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not all(32 < ord(ch) < 127 for ch in key):
        raise ServiceError("invalid_idempotency_key", "An Idempotency-Key is 1 to 255 "
                           "printable ASCII characters without spaces.")
    return key


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.body):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def run(request: HttpRequest, store: Store,
        work: Callable[[], tuple[int, dict]]) -> JsonResponse:
    """Run ``work`` (returning status and JSON body) at most once per key."""
    raw = request.headers.get(HEADER)
    if raw is None:
        status, body = _answer(work)
        return JsonResponse(body, status=status)
    key = _check_key(raw.strip())
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(store=store, key=key,
                                                request_hash=fingerprint)
    except IntegrityError:
        earlier = IdempotencyKey.objects.filter(store=store, key=key).first()
        if earlier is None:  # pruned between the INSERT and this read
            raise Conflict("idempotency_key_in_use", "Retry the request.") from None
        if earlier.request_hash != fingerprint:
            raise ServiceError("idempotency_key_reused", "This Idempotency-Key was used "
                               "for a different request.", status=422) from None
        if earlier.status_code is None:
            raise Conflict("idempotency_key_in_use", "A request with this Idempotency-Key "
                           "is still being processed.") from None
        response = JsonResponse(earlier.response, status=earlier.status_code)
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        status, body = _answer(work)
    except Exception:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        raise
    IdempotencyKey.objects.filter(pk=row.pk).update(status_code=status, response=body)
    return JsonResponse(body, status=status)


def _answer(work: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    try:
        status, body = work()
    except ServiceError as exc:
        error: dict = {"code": exc.code, "message": exc.message}
        if exc.field:
            error["field"] = exc.field
        return exc.status, {"error": error}
    return status, json.loads(json.dumps(body, default=str))


def idempotency_keys_prune() -> int:
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - RETENTION).delete()
    return deleted
