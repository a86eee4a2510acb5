"""``Idempotency-Key`` for POSTs that create orders or refunds (Stripe's semantics).

- The same key with the same request (method, path, JSON body) replays the first answer
  (status and body) and does nothing again; the replay carries ``Idempotent-Replayed: true``.
- The same key with a different request is ``422 idempotency_key_reused``.
- A key whose first request is still running is ``409 idempotency_key_in_use``.
- Refusals (4xx) are stored and replayed too. An unexpected crash, or a 5xx, frees the key
  for a retry (the work either did not commit or, with ``atomic``, rolled back with it).
- Keys bind for 24 hours: an older row no longer counts even before the hourly prune
  (``idempotency_keys_prune``) deletes it.

The key row is committed *before* the work starts, in its own transaction, so two concurrent
requests with one key cannot both run: the second one's INSERT hits the unique constraint and
finds the first one in flight. This needs autocommit around the handler (no
``ATOMIC_REQUESTS``), which is how the project runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.orders.models import IdempotencyKey
from shopkeep.stores.models import Store

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255

Work = Callable[[], tuple[int, dict]]


def _check_key(raw: str) -> str:
    key = raw.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(32 <= ord(ch) < 127 for ch in key):
        raise ServiceError("invalid_idempotency_key", "An Idempotency-Key is 1 to 255 "
                           "printable ASCII characters.", field=HEADER)
    return key


def _fingerprint(request: HttpRequest) -> str:
    body: bytes = request.body
    try:
        # Compare what was asked, not how it was spelled: key order and whitespace do not
        # make a retry "different". Numbers keep their exact text (no float rounding).
        parsed = json.loads(body, parse_float=str, parse_int=str)
        body = json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    digest = hashlib.sha256()
    for part in ((request.method or "").encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def run(request: HttpRequest, store: Store, work: Work, *, atomic: bool = True) -> JsonResponse:
    """Answer with ``work()`` (status and JSON body), run at most once per key.

    With ``atomic`` the work and its stored answer commit together. Pass ``atomic=False``
    for work that must run outside a transaction (a gateway call): its answer is then
    stored just after it.
    """
    raw = request.headers.get(HEADER)
    if raw is None:
        status, body = _answer(work, atomic)
        return JsonResponse(body, status=status)
    claimed = _claim(store, _check_key(raw), _fingerprint(request))
    if isinstance(claimed, JsonResponse):
        return claimed
    try:
        with transaction.atomic() if atomic else nullcontext():
            status, body = _answer(work, atomic)
            if status < 500:
                IdempotencyKey.objects.filter(pk=claimed.pk).update(status_code=status,
                                                                    response=body)
    except BaseException:
        IdempotencyKey.objects.filter(pk=claimed.pk).delete()
        raise
    if status >= 500:
        IdempotencyKey.objects.filter(pk=claimed.pk).delete()
    return JsonResponse(body, status=status)


def _claim(store: Store, key: str, fingerprint: str) -> IdempotencyKey | JsonResponse:
    """The new in-flight row for ``key``, or the stored answer to replay."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(store=store, key=key,
                                                     request_hash=fingerprint)
        except IntegrityError:
            pass
        earlier = IdempotencyKey.objects.filter(store=store, key=key).first()
        if earlier is None:  # pruned or freed between our INSERT and this read: claim again
            continue
        if earlier.created_at < timezone.now() - RETENTION:
            # Expired but not pruned yet: it no longer binds the key. The conditional DELETE
            # lets only one of several concurrent retries take the key over.
            IdempotencyKey.objects.filter(pk=earlier.pk, created_at=earlier.created_at).delete()
            continue
        if earlier.request_hash != fingerprint:
            raise ServiceError("idempotency_key_reused", "This Idempotency-Key was used for a "
                               "different request.", status=422, field=HEADER)
        if earlier.status_code is None:
            raise Conflict("idempotency_key_in_use", "A request with this Idempotency-Key is "
                           "still being processed; retry shortly.")
        response = JsonResponse(earlier.response, status=earlier.status_code)
        response[REPLAYED_HEADER] = "true"
        return response
    raise Conflict("idempotency_key_in_use", "This Idempotency-Key is changing hands; retry "
                   "shortly.")


def _answer(work: Work, atomic: bool) -> tuple[int, dict]:
    try:
        # A refusal rolls back whatever the work wrote before it, even with the answer's
        # row in the same outer transaction.
        with transaction.atomic() if atomic else nullcontext():
            status, body = work()
    except ServiceError as exc:
        error: dict = {"code": exc.code, "message": exc.message}
        if exc.field:
            error["field"] = exc.field
        return exc.status, {"error": error}
    # Stored as JSON and replayed byte for byte: make the first answer the same JSON.
    return status, json.loads(json.dumps(body, default=str))


def idempotency_keys_prune() -> int:
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - RETENTION).delete()
    return deleted
