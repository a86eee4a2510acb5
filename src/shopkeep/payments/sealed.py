"""Gateway secrets at rest: AES-256-GCM with rotatable keys.

A sealed value is ``v1.<key id>.<base64(nonce + ciphertext)>``. The key id (the first bytes
of the key's SHA-256) picks the decryption key without trying each one. The associated data
binds a value to its row and field (``stripe:<store id>:secret_key``), so a ciphertext copied
onto another store's row, or into the other field, fails to open instead of being used.

Keys come from ``settings.PAYMENT_ENCRYPTION_KEYS``: the first encrypts, all decrypt. A key
derived from ``SECRET_KEY`` is always last in the list, so an install that starts without
configured keys keeps working after real ones are added and re-encrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12


class SealError(Exception):
    """A stored secret cannot be opened: unknown key, tampered, or moved to another row."""


@dataclass(frozen=True)
class _Key:
    id: str
    aead: AESGCM


def _derived_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"shopkeep-payment-secrets-v1",
                    hashlib.sha256).digest()


def _parse_key(raw: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            "SHOPKEEP_PAYMENT_ENCRYPTION_KEYS: each key must be url-safe base64 of 32 random "
            "bytes (python -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(32))"
            ".decode())')")
    return key


def _keys() -> list[_Key]:
    raw_keys = [_parse_key(raw) for raw in settings.PAYMENT_ENCRYPTION_KEYS]
    raw_keys.append(_derived_key())
    keys, seen = [], set()
    for raw in raw_keys:
        key_id = hashlib.sha256(raw).hexdigest()[:8]
        if key_id not in seen:
            seen.add(key_id)
            keys.append(_Key(id=key_id, aead=AESGCM(raw)))
    return keys


def seal(plaintext: str, *, context: str) -> str:
    key = _keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}.{key.id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(value: str, *, context: str) -> str:
    try:
        version, key_id, body = value.split(".", 2)
        blob = base64.urlsafe_b64decode(body)
    except (ValueError, binascii.Error):
        raise SealError("not a sealed value") from None
    if version != VERSION:
        raise SealError(f"unknown format {version!r}")
    key = next((k for k in _keys() if k.id == key_id), None)
    if key is None:
        raise SealError(f"sealed with key {key_id}, which is no longer configured")
    try:
        return key.aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()
    except InvalidTag:
        raise SealError("the sealed value was altered or belongs to another row") from None


def sealed_with_current_key(value: str) -> bool:
    return value.split(".", 2)[1:2] == [_keys()[0].id]
