"""Mails made by the periodic jobs: upcoming renewal, daily summary, abandoned basket."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from shopkeep.notifications.models import (
    EmailOutbox,
    EmailUnsubscribe,
    MemberEmailPreference,
    StoreEmailSettings,
)
from shopkeep.notifications.scheduled import (
    abandoned_baskets_queue,
    daily_summaries_queue,
    renewal_reminders_queue,
)
from shopkeep.notifications.services import email_send
from shopkeep.orders.models import Order
from shopkeep.stores.models import Membership, Role
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order, pay, place_order
from tests.factories import add_member, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(name="Block Party")


def _send_all() -> list:
    mail.outbox.clear()
    for row in EmailOutbox.objects.filter(status="pending").order_by("id"):
        email_send(outbox_id=row.pk)
    return list(mail.outbox)


# -- upcoming renewal -------------------------------------------------------------------------

def test_a_renewal_reminder_goes_once_three_days_before_a_monthly_renewal(
        store, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get()
    assert renewal_reminders_queue() == 0  # a month away
    soon = sub.current_period_end - timedelta(days=2)
    assert renewal_reminders_queue(now=soon) == 1
    assert renewal_reminders_queue(now=soon + timedelta(hours=1)) == 0  # once per period
    (message,) = _send_all()
    assert message.to == ["player@example.com"]
    assert message.subject.startswith("VIP Monthly renews on ")
    assert "9.99 USD" in message.body and "cancel from your purchases" in message.body


def test_no_reminder_for_a_subscription_set_to_end(store, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    Subscription.objects.update(cancel_at_period_end=True)
    sub = Subscription.objects.get()
    assert renewal_reminders_queue(now=sub.current_period_end - timedelta(days=1)) == 0


# -- daily summary ----------------------------------------------------------------------------

def test_the_daily_summary_covers_the_stores_local_yesterday_for_members_who_opted_in(
        store, django_capture_on_commit_callbacks):
    store.time_zone = "America/New_York"
    store.save()
    owner_membership = Membership.objects.get(store=store, user=owner_of(store))
    MemberEmailPreference.objects.create(membership=owner_membership, daily_summary=True)
    add_member(store, Role.ADMIN)  # did not opt in: gets nothing
    product = make_product(store, price="10.00")
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    zone = ZoneInfo("America/New_York")
    local_paid = order.paid_at.astimezone(zone)
    # 00:30 the next local day: the day the order was paid is "yesterday".
    next_day = datetime.combine(local_paid.date() + timedelta(days=1),
                                datetime.min.time(), tzinfo=zone) + timedelta(minutes=30)
    assert daily_summaries_queue(now=next_day) == 1
    assert daily_summaries_queue(now=next_day + timedelta(hours=5)) == 0  # once per day
    (message,) = _send_all()
    assert message.to == [owner_of(store).email]
    assert message.subject == (f"Block Party: 1 orders, 10.00 USD on "
                               f"{local_paid.date().isoformat()}")
    assert "America/New_York" in message.body and "VIP Rank (1)" in message.body
    # Two days later the order is not in that day's summary.
    assert daily_summaries_queue(now=next_day + timedelta(days=1)) == 1
    row = EmailOutbox.objects.filter(kind="daily_summary").latest("id")
    assert row.context["orders"] == 0


def test_no_summary_without_an_opt_in(store):
    assert daily_summaries_queue(now=timezone.now()) == 0
    assert not EmailOutbox.objects.exists()


# -- abandoned basket -------------------------------------------------------------------------

@pytest.fixture
def reminders(store):
    return StoreEmailSettings.objects.create(store=store, abandoned_basket=True,
                                             abandoned_delay_hours=4)


def _left(store, product, **kwargs) -> Order:
    order = place_order(store, product, basket_reminder=True, **kwargs)
    return order


def test_one_reminder_for_a_left_order_with_consent(store, reminders, client):
    product = make_product(store, price="10.00")
    order = _left(store, product)
    place_order(store, product, email="noconsent@example.com")  # did not tick the box
    assert abandoned_baskets_queue() == 0  # not 4 hours yet
    later = order.created_at + timedelta(hours=4, minutes=1)
    assert abandoned_baskets_queue(now=later) == 1
    assert abandoned_baskets_queue(now=later + timedelta(hours=1)) == 0
    (message,) = _send_all()
    assert message.to == ["player@example.com"]
    assert message.subject == "You left something in your basket at Block Party"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = EmailOutbox.objects.get(kind="abandoned_basket")
    restore = row.context["restore_url"].split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + restore, follow=True)
    assert "VIP Rank" in response.content.decode()
    assert "Your basket is back" in response.content.decode()


def test_never_for_a_paid_order_even_when_paid_after_queueing(
        store, reminders, django_capture_on_commit_callbacks):
    product = make_product(store, price="10.00")
    order = _left(store, product)
    assert abandoned_baskets_queue(now=order.created_at + timedelta(hours=5)) == 1
    ok, _ = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok
    assert _send_all() == []
    assert EmailOutbox.objects.get(kind="abandoned_basket").status == "skipped"


def test_no_reminder_when_the_buyer_paid_a_later_order(
        store, reminders, django_capture_on_commit_callbacks):
    product = make_product(store, price="10.00")
    order = _left(store, product)
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    assert abandoned_baskets_queue(now=order.created_at + timedelta(hours=5)) == 0


def test_no_reminder_when_the_store_does_not_send_them(store, django_capture_on_commit_callbacks):
    product = make_product(store, price="10.00")
    order = _left(store, product)
    assert abandoned_baskets_queue(now=order.created_at + timedelta(hours=5)) == 0


def test_the_unsubscribe_link_stops_reminders_and_works_in_one_click(store, reminders):
    product = make_product(store, price="10.00")
    order = _left(store, product)
    abandoned_baskets_queue(now=order.created_at + timedelta(hours=5))
    row = EmailOutbox.objects.get(kind="abandoned_basket")
    path = "/" + row.context["unsubscribe_url"].split("://", 1)[1].split("/", 1)[1]
    browser = Client(enforce_csrf_checks=True)
    assert "Stop basket reminders" in browser.get(path).content.decode()
    assert not EmailUnsubscribe.objects.exists()  # a GET changes nothing
    response = browser.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and EmailUnsubscribe.objects.count() == 1
    assert browser.post(path).status_code == 200 and EmailUnsubscribe.objects.count() == 1
    assert _send_all() == []  # the queued reminder is skipped at send time
    second = _left(store, product)
    assert abandoned_baskets_queue(now=second.created_at + timedelta(hours=5)) == 0


def test_a_forged_or_foreign_link_is_404(store, reminders, client):
    other = make_shop(slug="other")
    product = make_product(store, price="10.00")
    order = _left(store, product)
    abandoned_baskets_queue(now=order.created_at + timedelta(hours=5))
    row = EmailOutbox.objects.get(kind="abandoned_basket")
    token = row.context["unsubscribe_url"].rstrip("/").rsplit("/", 1)[1]
    assert client.post(f"/s/{other.slug}/emails/unsubscribe/{token}/").status_code == 404
    assert client.post(f"/s/{store.slug}/emails/unsubscribe/{token}x/").status_code == 404
    basket = row.context["restore_url"].rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/s/{other.slug}/basket/restore/{basket}/").status_code == 404
    assert not EmailUnsubscribe.objects.exists()
