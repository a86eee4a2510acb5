"""Random identifiers and secrets.

Public ids and secrets are prefixed (``store_``, ``sk_``) so a leaked string says what it is,
and secrets are only ever stored as SHA-256 digests: they carry 256 bits of entropy, so a
fast hash is enough and lookups can use an index on the digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_UPPER_ALPHANUM = string.ascii_uppercase + string.digits


def random_string(length: int, alphabet: str = _ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def public_id(prefix: str, length: int = 16) -> str:
    """``store_k3J9...``: a non-sequential id safe to show and to put in URLs."""
    return f"{prefix}_{random_string(length)}"


def order_number() -> str:
    """``ORD-`` and 10 upper-case letters and digits (seed 002)."""
    return "ORD-" + random_string(10, _UPPER_ALPHANUM)


def new_secret(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), digest)
