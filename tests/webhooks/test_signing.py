"""Both signature schemes, checked the way receivers check them: the ``standardwebhooks``
library for ``webhook-*`` and a plain HMAC for ``X-Webhook-Signature``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.db import transaction
from standardwebhooks import Webhook, WebhookVerificationError

from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor
from shopkeep.webhooks.models import WebhookEndpoint
from shopkeep.webhooks.services import endpoint_create, endpoint_rotate_secret
from shopkeep.webhooks.signing import new_secret
from tests.webhooks.conftest import dispatch

pytestmark = pytest.mark.django_db

DATA = {"product_id": 103, "name": "Diamond Sword", "slug": "diamond-sword",
        "deleted_at": "2025-01-22T09:00:00.000000Z"}


def _hex_ok(secret: str, request) -> bool:
    """What docs/webhooks.md tells receivers to do: key = the whole secret string."""
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, sig)
               for sig in request.header("X-Webhook-Signature").split(","))


def _standard_ok(secret: str, request) -> bool:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


def _send_one(store, endpoint, clock=None):
    with transaction.atomic():
        emit(store=store, event_type="product.deleted", data=DATA)
    dispatch(clock)


@pytest.fixture
def endpoint(store, receiver):
    return endpoint_create(store=store, actor=Actor.system(), url=receiver.url(),
                           events=["product.deleted"])


def test_a_secret_is_whsec_and_base64_of_32_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


def test_both_signatures_verify_and_the_headers_are_complete(store, endpoint, receiver):
    _send_one(store, endpoint)
    (request,) = receiver.requests
    assert _hex_ok(endpoint.secret, request)
    assert _standard_ok(endpoint.secret, request)
    payload = json.loads(request.body)
    assert request.header("Content-Type") == "application/json"
    assert request.header("User-Agent") == "Shopkeep-Webhooks/1.0"
    assert request.header("X-Webhook-Event") == "product.deleted"
    assert request.header("X-Webhook-ID") == request.header("webhook-id") == payload["id"]
    assert len(request.header("X-Webhook-Signature")) == 64  # one hex digest, no prefix


def test_a_wrong_secret_or_a_changed_body_fails_both_checks(store, endpoint, receiver):
    _send_one(store, endpoint)
    (request,) = receiver.requests
    other = new_secret()
    assert not _hex_ok(other, request) and not _standard_ok(other, request)
    tampered = type(request)(request.path, request.headers,
                             request.body.replace(b"Diamond", b"Golden"))
    assert not _hex_ok(endpoint.secret, tampered)
    assert not _standard_ok(endpoint.secret, tampered)


def test_the_standard_scheme_rejects_a_replayed_old_message(store, endpoint, receiver, clock):
    clock.advance(minutes=-10)  # signed ten minutes ago: outside the library's tolerance
    _send_one(store, endpoint, clock)
    (request,) = receiver.requests
    assert _hex_ok(endpoint.secret, request)
    assert not _standard_ok(endpoint.secret, request)


def test_after_rotation_old_and_new_secrets_both_verify_for_24_hours(store, endpoint, receiver,
                                                                     clock):
    old = endpoint.secret
    endpoint = endpoint_rotate_secret(store=store, actor=Actor.system(), endpoint=endpoint)
    assert endpoint.secret != old and endpoint.previous_secret == old
    _send_one(store, endpoint, clock)
    request = receiver.requests[-1]
    for secret in (old, endpoint.secret):
        assert _hex_ok(secret, request) and _standard_ok(secret, request)
    assert len(request.header("webhook-signature").split(" ")) == 2


def test_once_the_overlap_ends_only_the_new_secret_signs(store, endpoint, receiver, clock):
    old = endpoint.secret
    endpoint = endpoint_rotate_secret(store=store, actor=Actor.system(), endpoint=endpoint)
    clock.now = endpoint.previous_secret_expires_at + timedelta(seconds=1)
    with transaction.atomic():
        emit(store=store, event_type="product.deleted", data=DATA)
    # The standard scheme's replay window is checked against the real clock, so verify the
    # HMACs directly here.
    dispatch(clock)
    request = receiver.requests[-1]
    assert _hex_ok(endpoint.secret, request) and not _hex_ok(old, request)
    assert "," not in request.header("X-Webhook-Signature")
    assert len(request.header("webhook-signature").split(" ")) == 1


def test_discord_deliveries_carry_no_webhook_headers(store, receiver):
    endpoint_create(store=store, actor=Actor.system(), url=receiver.url("/discord"),
                    events=["product.deleted"], format=WebhookEndpoint.Format.DISCORD)
    with transaction.atomic():
        emit(store=store, event_type="product.deleted", data=DATA)
    dispatch()
    (request,) = receiver.on("/discord")
    assert request.header("X-Webhook-Signature") is None
    assert request.header("webhook-signature") is None
    assert request.header("User-Agent") == "Shopkeep-Webhooks/1.0"
