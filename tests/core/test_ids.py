import re

from shopkeep.core.ids import hash_secret, new_secret, order_number, public_id, secret_matches


def test_public_ids_are_prefixed_and_unpredictable():
    ids = {public_id("store") for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"store_[A-Za-z0-9]{16}", value) for value in ids)


def test_order_numbers_follow_the_seed_format():
    assert re.fullmatch(r"ORD-[A-Z0-9]{10}", order_number())


def test_secrets_verify_only_against_their_own_digest():
    secret = new_secret("sk")
    assert secret.startswith("sk_") and len(secret) > 40
    digest = hash_secret(secret)
    assert secret not in digest
    assert secret_matches(secret, digest)
    assert not secret_matches(secret + "x", digest)
