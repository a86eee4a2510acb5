"""Racing sign-ins on PostgreSQL: an attempt finishes once, an account links to one customer."""

from __future__ import annotations

import pytest

from shopkeep.core.errors import ServiceError
from shopkeep.customers.models import Customer
from shopkeep.customers.services import customer_create_from_signin, customer_link
from shopkeep.signin.models import SigninAttempt
from shopkeep.signin.services import attempt_finish, attempt_start, attempt_verified
from tests.commerce import make_shop
from tests.delivery.test_postgres import _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DISCORD_ID = "80351110224678912"


def _attempt(store):
    attempt = attempt_start(store=store, provider="discord", binding="b" * 43, next_path="",
                            finish_url="https://x.test/finish")
    return attempt, attempt_verified(attempt=attempt, uid=DISCORD_ID, username="nelly")


def _outcome(fn):
    try:
        return fn()
    except ServiceError as exc:
        return exc.code


def test_eight_browsers_finishing_one_attempt_finish_it_once():
    store = make_shop(slug="race")
    attempt, ticket = _attempt(store)
    results, errors = _race(8, lambda i: _outcome(lambda: attempt_finish(
        store=store, state=attempt.state, ticket=ticket, binding="b" * 43).pk))
    assert errors == []
    assert sorted(map(str, results)) == sorted([str(attempt.pk)] + ["signin_invalid"] * 7)
    assert SigninAttempt.objects.get().used_at is not None


def test_one_discord_account_links_to_one_customer_under_a_race():
    store = make_shop(slug="race2")
    customers = [Customer.objects.create(store=store, email=f"c{i}@example.com",
                                         referral_code=f"R{i}") for i in range(6)]
    results, errors = _race(6, lambda i: _outcome(lambda: customer_link(
        store=store, customer=customers[i], provider="discord", uid=DISCORD_ID,
        username="nelly").pk))
    assert errors == []
    assert results.count("already_linked") == 5
    assert Customer.objects.filter(store=store, discord_id=DISCORD_ID,
                                   discord_linked_at__isnull=False).count() == 1


def test_two_first_sign_ins_create_one_customer():
    store = make_shop(slug="race3")
    results, errors = _race(4, lambda i: _outcome(lambda: customer_create_from_signin(
        store=store, provider="discord", uid=DISCORD_ID, username="nelly",
        email="nelly@example.com").pk))
    assert errors == []
    assert results.count("already_linked") == 3
    assert Customer.objects.filter(store=store).count() == 1
