"""Encryption at rest of gateway secrets (AES-256-GCM, rotatable keys)."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from shopkeep.payments.sealed import SealError, seal, sealed_with_current_key, unseal

KEY_A = base64.urlsafe_b64encode(b"a" * 32).decode()
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()


def test_a_sealed_value_opens_with_its_context_only(settings):
    settings.PAYMENT_ENCRYPTION_KEYS = [KEY_A]
    value = seal("sk_test_secret", context="stripe:1:secret_key")
    assert "sk_test_secret" not in value
    assert unseal(value, context="stripe:1:secret_key") == "sk_test_secret"
    with pytest.raises(SealError):
        unseal(value, context="stripe:2:secret_key")  # copied onto another store's row


def test_sealing_twice_gives_different_ciphertexts(settings):
    settings.PAYMENT_ENCRYPTION_KEYS = [KEY_A]
    assert seal("x", context="c") != seal("x", context="c")


def test_a_tampered_value_does_not_open(settings):
    settings.PAYMENT_ENCRYPTION_KEYS = [KEY_A]
    version, key_id, body = seal("secret", context="c").split(".")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(SealError, match="altered"):
        unseal(f"{version}.{key_id}.{base64.urlsafe_b64encode(bytes(raw)).decode()}",
               context="c")
    with pytest.raises(SealError):
        unseal("garbage", context="c")


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    settings.PAYMENT_ENCRYPTION_KEYS = [KEY_A]
    old = seal("secret", context="c")
    settings.PAYMENT_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    new = seal("secret", context="c")
    assert unseal(old, context="c") == unseal(new, context="c") == "secret"
    assert not sealed_with_current_key(old) and sealed_with_current_key(new)
    settings.PAYMENT_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(SealError, match="no longer configured"):
        unseal(old, context="c")


def test_values_sealed_before_keys_were_configured_still_open(settings):
    settings.PAYMENT_ENCRYPTION_KEYS = []
    derived = seal("secret", context="c")
    settings.PAYMENT_ENCRYPTION_KEYS = [KEY_A]
    assert unseal(derived, context="c") == "secret"


@pytest.mark.parametrize("bad", ["short", base64.urlsafe_b64encode(b"x" * 16).decode(), "!!"])
def test_a_malformed_key_setting_fails_loudly(settings, bad):
    settings.PAYMENT_ENCRYPTION_KEYS = [bad]
    with pytest.raises(ImproperlyConfigured):
        seal("secret", context="c")
