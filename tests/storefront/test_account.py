"""The customer account: sign in by e-mailed link, orders, subscriptions, per-store sessions."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from shopkeep.customers.models import Customer
from shopkeep.events.models import Event
from shopkeep.storefront.views import LOGIN_MAX_AGE
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, paid_order
from tests.storefront.shop import login_token, sign_in, url

pytestmark = pytest.mark.django_db


def _run_queued_tasks() -> None:
    # The suite's TASKS backend is the database one (tests/conftest.py), so a request only
    # queues the mail; the real worker command then runs it in this process, and its
    # send_mail lands in pytest-django's locmem outbox. This proves the request itself sends
    # nothing, which the immediate backend could not. The worker manages its own connection
    # and transactions, which PostgreSQL refuses inside a test's transaction: the tests that
    # call it use django_db(transaction=True).
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.fixture
def order(store, product, django_capture_on_commit_callbacks):
    return paid_order(store, product, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def monthly_order(store, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    return paid_order(store, monthly, capture=django_capture_on_commit_callbacks,
                      email="sub@example.com")


@pytest.mark.django_db(transaction=True)
def test_login_answers_the_same_for_unknown_addresses_and_mails_only_known_ones(
        client, store, order, mailoutbox):
    unknown = client.post(url("account_login"), {"email": "nobody@example.com"})
    known = client.post(url("account_login"), {"email": "Player@Example.com"})
    assert unknown.status_code == known.status_code == 200
    assert unknown.templates[0].name == known.templates[0].name == "storefront/login_sent.html"
    assert (unknown.content.replace(b"nobody@example.com", b"X")
            == known.content.replace(b"player@example.com", b"X"))
    assert mailoutbox == []  # nothing is sent inside the request
    assert DBTaskResult.objects.filter(task_path__endswith="send_login_link").count() == 1

    _run_queued_tasks()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["player@example.com"] and "Block Party" in mail.subject
    assert "/s/shop/account/verify/" in mail.body


@pytest.mark.django_db(transaction=True)
def test_the_mailed_link_signs_in_and_rotates_the_session(client, store, order, mailoutbox):
    client.post(url("account_login"), {"email": "player@example.com"})
    _run_queued_tasks()
    link = next(w for w in mailoutbox[0].body.split() if "/account/verify/" in w)
    before = client.session.session_key
    response = client.get(link[link.index("/s/"):])
    assert response.status_code == 302 and response["Location"] == url("account")
    assert client.session.session_key != before
    assert client.session[f"customer_{store.pk}"] == order.customer.pk
    page = client.get(url("account"))
    assert order.order_number.encode() in page.content
    assert url("order", order.access_key).encode() in page.content


def test_an_address_of_another_store_gets_no_mail(client, store, outsider, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    paid_order(outsider, make_product(outsider, name="Elsewhere"), email="far@example.com",
               capture=django_capture_on_commit_callbacks)
    page = client.post(url("account_login"), {"email": "far@example.com"})
    assert b"login-sent" in page.content
    # (The sandbox's payment notice is a task too since durable notices; no sign-in mail.)
    assert not DBTaskResult.objects.filter(task_path__endswith="send_login_link").exists()


def test_repeated_requests_send_one_link_a_minute(client, store, order):
    for _ in range(3):
        page = client.post(url("account_login"), {"email": "player@example.com"})
        assert b"login-sent" in page.content
    assert DBTaskResult.objects.filter(task_path__endswith="send_login_link").count() == 1


def test_a_bad_login_address_is_a_form_error(client, store):
    response = client.post(url("account_login"), {"email": "x" * 300})
    assert response.status_code == 200 and b"errorlist" in response.content
    assert not DBTaskResult.objects.exists()


def test_an_expired_link_signs_nobody_in(client, store, order, monkeypatch):
    token = login_token(store, order.customer)
    later = time.time() + LOGIN_MAX_AGE + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    page = client.get(url("account_verify", token), follow=True)
    assert b"invalid or has expired" in page.content
    assert f"customer_{store.pk}" not in client.session


def test_a_tampered_or_foreign_link_signs_nobody_in(client, store, order, outsider):
    token = login_token(store, order.customer)
    forged = signing.TimestampSigner(salt="another-purpose").sign_object(
        {"c": order.customer.pk, "s": store.pk})
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        client.get(url("account_verify", bad))
        assert client.get(url("account")).status_code == 302
    # A valid link of this store, opened under another store's address.
    client.get(url("account_verify", token, slug="other"))
    assert client.get(url("account", slug="other")).status_code == 302
    assert not any(k.startswith("customer_") for k, _ in client.session.items())


def test_a_customer_session_of_one_store_shows_nothing_of_another(
        client, store, order, outsider, django_capture_on_commit_callbacks):
    theirs = paid_order(outsider, make_product(outsider, name="Other Thing"),
                        capture=django_capture_on_commit_callbacks)
    sign_in(client, store, order.customer)
    assert client.get(url("account", slug="other")).status_code == 302
    page = client.get(url("account"))
    assert b"Other Thing" not in page.content and theirs.order_number.encode() not in page.content
    assert b"player@example.com" not in client.get(url("home", slug="other")).content


def test_a_customer_cannot_cancel_another_stores_subscription(
        client, store, order, outsider, django_capture_on_commit_callbacks):
    monthly = make_product(outsider, name="Their Monthly", type="subscription",
                           billing_interval="month")
    paid_order(outsider, monthly, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get(store=outsider)
    sign_in(client, store, order.customer)
    assert client.post(url("account_cancel_subscription", sub.pk)).status_code == 404
    response = client.post(url("account_cancel_subscription", sub.pk, slug="other"))
    assert response.status_code == 302 and response["Location"] == url("account_login",
                                                                        slug="other")
    sub.refresh_from_db()
    assert sub.status == "active"


def test_a_customer_cancels_their_subscription_at_period_end(client, store, monthly_order):
    sub = Subscription.objects.get(order=monthly_order)
    cancel = url("account_cancel_subscription", sub.pk)
    assert client.post(cancel).status_code == 302  # not signed in: to the login page
    sub.refresh_from_db()
    assert sub.status == "active"

    sign_in(client, store, monthly_order.customer)
    page = client.get(url("account"))
    assert b"VIP Monthly" in page.content and b"data-confirm=" in page.content
    assert client.get(cancel).status_code == 405  # never on GET
    page = client.post(cancel, follow=True)
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ends_at == sub.current_period_end
    assert sub.ended_at is None
    assert f"access until {sub.ends_at:%Y-%m-%d}".encode() in page.content
    assert Event.objects.filter(store=store, event_type="subscription.cancelled").count() == 1

    client.post(cancel)  # twice: the service refuses, nothing more happens
    assert Event.objects.filter(store=store, event_type="subscription.cancelled").count() == 1


def test_signing_out_forgets_the_customer(client, store, order):
    sign_in(client, store, order.customer)
    assert client.get(url("account_logout")).status_code == 405
    response = client.post(url("account_logout"))
    assert response.status_code == 302
    assert client.get(url("account")).status_code == 302


def test_signup_creates_a_customer_once_and_mails_a_link(client, store, mailoutbox):
    response = client.post(url("account_signup"), {"email": "New@Example.com",
                                                   "player_name": "Newbie_1"})
    assert response.status_code == 200 and b"login-sent" in response.content
    customer = Customer.objects.get(store=store)
    assert (customer.email, customer.player_name) == ("new@example.com", "Newbie_1")
    assert Event.objects.filter(store=store, event_type="customer.created").count() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="send_login_link").count() == 1
    assert mailoutbox == []


def test_signup_for_an_existing_address_changes_nothing_and_answers_the_same(
        client, store, order):
    response = client.post(url("account_signup"), {"email": order.customer_email,
                                                   "player_name": "Hijacker"})
    assert response.status_code == 200 and b"login-sent" in response.content
    order.customer.refresh_from_db()
    assert order.customer.player_name == "Steve"
    assert Event.objects.filter(store=store, event_type="customer.created").count() == 1


def test_signup_with_a_hostile_player_name_writes_nothing(client, store):
    response = client.post(url("account_signup"), {"email": "a@example.com",
                                                   "player_name": "Steve; op Steve"})
    assert response.status_code == 400
    assert not Customer.objects.exists() and not Event.objects.exists()
    assert not DBTaskResult.objects.exists()
