"""Tax on subscription renewals: each renewal at the rates of its day; a rate change applies
from the next renewal, and earlier periods keep theirs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from shopkeep.customers.services import CustomerInput
from shopkeep.notifications.models import EmailOutbox, ScanCursor
from shopkeep.notifications.services import email_send, outbox_scan
from shopkeep.orders.services import Line
from shopkeep.orders.tax import tax_rate_set, tax_settings_set
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.payments.gateways.sandbox import SandboxGateway
from shopkeep.subscriptions.models import Renewal, Subscription
from tests.commerce import make_product, make_shop, pay
from tests.promotions.helpers import owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    store = make_shop(currency="EUR", name="Block Party")
    tax_settings_set(store=store, actor=owner(store), enabled=True, prices_include_tax=True,
                     home_country="DE")
    tax_rate_set(store=store, actor=owner(store), country="DE", rate="19", label="MwSt")
    return store


@pytest.fixture
def sub(store, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="11.90", type="subscription",
                           billing_interval="month")
    order = order_create(store=store, lines=[Line(monthly.pk, 1)], customer=CustomerInput(
        email="b@example.com", player_name="Steve", country="DE"))
    checkout_start(order=order, success_url="/done", cancel_url="/basket")
    ok, message = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok, message
    order.refresh_from_db()
    assert order.tax == Decimal("1.90")
    return Subscription.objects.get()


def _renew(sub, capture):
    with capture(execute=True):
        SandboxGateway().simulate_renewal(subscription_id=sub.gateway_subscription_id)
    return Renewal.objects.filter(subscription=sub, succeeded=True).latest("id")


def test_a_rate_change_applies_from_the_next_renewal(store, sub,
                                                     django_capture_on_commit_callbacks):
    first = _renew(sub, django_capture_on_commit_callbacks)
    assert (first.amount, first.tax, first.tax_rate) == (Decimal("11.90"), Decimal("1.90"),
                                                         Decimal("19"))
    tax_rate_set(store=store, actor=owner(store), country="DE", rate="7", label="MwSt")
    second = _renew(sub, django_capture_on_commit_callbacks)
    # 11.90 including 7%: 0.78 tax.
    assert (second.amount, second.tax, second.tax_rate) == (Decimal("11.90"), Decimal("0.78"),
                                                            Decimal("7"))
    first.refresh_from_db()
    assert first.tax == Decimal("1.90")  # the earlier period keeps its rate


def test_exclusive_prices_record_the_tax_share_of_what_was_charged(
        store, django_capture_on_commit_callbacks):
    tax_settings_set(store=store, actor=owner(store), enabled=True, prices_include_tax=False,
                     home_country="DE")
    monthly = make_product(store, name="VIP Net", price="10.00", type="subscription",
                           billing_interval="month")
    order = order_create(store=store, lines=[Line(monthly.pk, 1)], customer=CustomerInput(
        email="n@example.com", player_name="Alex", country="DE"))
    checkout_start(order=order, success_url="/done", cancel_url="/basket")
    assert pay(order, capture=django_capture_on_commit_callbacks)[0]
    sub = Subscription.objects.get(order=order)
    renewal = _renew(sub, django_capture_on_commit_callbacks)
    assert renewal.amount == Decimal("11.90") and renewal.tax == Decimal("1.90")
    assert renewal.tax_inclusive is False


def test_the_renewal_receipt_shows_the_tax_of_its_day(store, sub,
                                                      django_capture_on_commit_callbacks):
    ScanCursor.objects.update_or_create(name="events", defaults={"last_event_id": 0})
    outbox_scan()
    EmailOutbox.objects.update(status="skipped")
    tax_rate_set(store=store, actor=owner(store), country="DE", rate="7", label="MwSt")
    _renew(sub, django_capture_on_commit_callbacks)
    outbox_scan()
    row = EmailOutbox.objects.get(kind="subscription_renewed")
    mail.outbox.clear()
    assert email_send(outbox_id=row.pk) == "sent"
    (message,) = mail.outbox
    assert "including 0.78 EUR tax (7%)" in message.body
