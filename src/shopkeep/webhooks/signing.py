"""Webhook secrets and the two signature schemes.

Secret: ``whsec_`` + standard base64 of 32 random bytes (the Standard Webhooks form).

- ``X-Webhook-Signature``: lower-case hex HMAC-SHA256 of the raw request body, keyed with the
  **whole secret string as UTF-8 bytes, ``whsec_`` prefix included** (what a receiver holding
  the string passes to ``hmac``/``hash_hmac`` without decoding anything).
- ``webhook-signature`` (Standard Webhooks): ``v1,`` + base64 HMAC-SHA256 of
  ``{webhook-id}.{webhook-timestamp}.{body}``, keyed with the **base64-decoded bytes after
  ``whsec_``**, as every Standard Webhooks library does.

During the 24 hours after a rotation both secrets sign: ``X-Webhook-Signature`` then holds two
hex digests separated by a comma (new secret first) and ``webhook-signature`` two
space-separated ``v1,`` entries, so a receiver still holding the old secret keeps verifying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "Shopkeep-Webhooks/1.0"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _standard_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def hex_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(*, secrets_in_use: list[str], delivery_id: str, event_type: str,
                   timestamp: int, body: bytes) -> dict[str, str]:
    """Headers of a custom (JSON) delivery; ``timestamp`` is the send time in Unix seconds."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": event_type,
        "X-Webhook-ID": delivery_id,
        "X-Webhook-Signature": ",".join(hex_signature(s, body) for s in secrets_in_use),
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(s, msg_id=delivery_id, timestamp=timestamp, body=body)
            for s in secrets_in_use),
    }


def plain_headers() -> dict[str, str]:
    """Discord deliveries: seed 002 sends the X-Webhook-* headers to custom webhooks only."""
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT}
