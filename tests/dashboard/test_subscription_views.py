"""Dashboard subscriptions: list, detail with renewals, cancel, and renewal simulations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.events.models import Event
from shopkeep.payments.flows import subscriptions_end_due
from shopkeep.stores.models import Role
from shopkeep.subscriptions.models import Renewal, Subscription
from tests.commerce import make_shop
from tests.dashboard.commerce_state import (
    SUBSCRIPTION_ROUTES,
    commerce_state,
    make_subscription,
    outsider_gets_404_everywhere,
)
from tests.factories import add_member, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="shop")


@pytest.fixture
def subscription(store, django_capture_on_commit_callbacks):
    return make_subscription(store, django_capture_on_commit_callbacks)


@pytest.fixture
def owner_client(client, store):
    client.force_login(owner_of(store))
    return client


def _url(name, sub, *extra):
    return reverse(f"dashboard:{name}", args=["shop", sub.pk, *extra])


def test_the_list_filters_by_status(owner_client, subscription):
    url = reverse("dashboard:subscriptions", args=["shop"])
    page = owner_client.get(url)
    assert list(page.context["page"]) == [subscription]
    assert b"VIP Monthly" in page.content and b"sub@example.com" in page.content
    assert list(owner_client.get(url, {"status": "active"}).context["page"]) == [subscription]
    assert list(owner_client.get(url, {"status": "canceled"}).context["page"]) == []
    assert list(owner_client.get(url, {"status": "bogus"}).context["page"]) == [subscription]


def test_the_detail_shows_the_subscription_and_its_first_order(owner_client, subscription):
    page = owner_client.get(_url("subscription_detail", subscription))
    assert page.status_code == 200
    for text in ("VIP Monthly", "9.99 USD every month", subscription.gateway_subscription_id,
                 reverse("dashboard:order_detail", args=["shop", subscription.order_id]),
                 "Cancel at period end", "Simulate a renewal", "No renewals yet"):
        assert text.encode() in page.content, text


def test_cancel_at_period_end_keeps_access_until_the_period_ends(owner_client, subscription,
                                                                 store):
    response = owner_client.post(_url("subscription_cancel", subscription),
                                 {"when": "period_end", "reason": "Too expensive"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    assert subscription.cancel_at_period_end
    assert subscription.ends_at == subscription.current_period_end
    assert subscription.cancel_reason == "Too expensive"
    assert subscription.ended_at is None
    assert Event.objects.filter(store=store, event_type="subscription.cancelled").count() == 1
    # Access continues until the paid period is over, then ends.
    assert subscriptions_end_due(now=subscription.ends_at - timedelta(seconds=1)) == 0
    subscription.refresh_from_db()
    assert subscription.ended_at is None
    assert subscriptions_end_due(now=subscription.ends_at) == 1
    subscription.refresh_from_db()
    assert subscription.ended_at is not None
    page = owner_client.get(_url("subscription_detail", subscription))
    assert b"Cancel now" not in page.content and b"(ended)" in page.content


def test_cancel_now_ends_access_immediately(owner_client, subscription):
    response = owner_client.post(_url("subscription_cancel", subscription), {"when": "now"},
                                 follow=True)
    assert b"access has ended" in response.content
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    assert not subscription.cancel_at_period_end
    assert subscription.ended_at is not None and subscription.ends_at <= subscription.ended_at


def test_cancelling_twice_shows_an_error_and_changes_nothing(owner_client, subscription):
    owner_client.post(_url("subscription_cancel", subscription), {"when": "now"})
    before = commerce_state()
    response = owner_client.post(_url("subscription_cancel", subscription), {"when": "now"},
                                 follow=True)
    assert b"already cancelled" in response.content
    assert commerce_state() == before


def test_cancel_is_post_only(owner_client, subscription):
    assert owner_client.get(_url("subscription_cancel", subscription)).status_code == 405
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE


def test_simulated_renewal_and_failure_reach_the_subscription(
        owner_client, subscription, django_capture_on_commit_callbacks):
    end = subscription.current_period_end
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(_url("subscription_simulate", subscription, "renewal"))
    subscription.refresh_from_db()
    assert subscription.current_period_end > end
    assert subscription.status == Subscription.Status.ACTIVE
    renewal = Renewal.objects.get(subscription=subscription)
    assert renewal.succeeded and renewal.period_end == subscription.current_period_end

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(_url("subscription_simulate", subscription, "renewal_failure"))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAST_DUE
    assert subscription.attempt_count == 1 and subscription.next_retry_at is not None
    page = owner_client.get(_url("subscription_detail", subscription))
    assert page.content.count(b'class="badge ok">paid') == 1
    assert b"card_declined" in page.content and b"Failed attempts" in page.content
    past_due = owner_client.get(reverse("dashboard:subscriptions", args=["shop"]),
                                {"status": "past_due"})
    assert list(past_due.context["page"]) == [subscription]


def test_simulations_are_refused_for_a_live_store(owner_client, subscription, store,
                                                  django_capture_on_commit_callbacks):
    store.test_mode = False
    store.save()
    assert b"Simulate a renewal" not in owner_client.get(
        _url("subscription_detail", subscription)).content
    before = commerce_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_url("subscription_simulate", subscription, "renewal"),
                                     follow=True)
    assert b"Simulations are for sandbox subscriptions" in response.content
    assert commerce_state() == before


def test_a_cancelled_subscription_cannot_be_renewed_by_simulation(
        owner_client, subscription, django_capture_on_commit_callbacks):
    owner_client.post(_url("subscription_cancel", subscription), {"when": "now"})
    before = commerce_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_url("subscription_simulate", subscription, "renewal"),
                                     follow=True)
    assert b"canceled" in response.content
    assert commerce_state() == before


def test_an_unknown_simulation_is_404(owner_client, subscription):
    assert owner_client.post(_url("subscription_simulate", subscription, "x")).status_code == 404


def test_support_sees_subscriptions_but_cannot_cancel_or_simulate(
        store, subscription, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(add_member(store, Role.SUPPORT).user)
    page = client.get(_url("subscription_detail", subscription))
    assert page.status_code == 200
    assert b"Cancel now" not in page.content and b"Simulate" not in page.content
    before = commerce_state()
    with django_capture_on_commit_callbacks(execute=True):
        for response in (
                client.post(_url("subscription_cancel", subscription), {"when": "now"}),
                client.post(_url("subscription_cancel", subscription), {"when": "period_end"}),
                client.post(_url("subscription_simulate", subscription, "renewal")),
                client.post(_url("subscription_simulate", subscription, "renewal_failure"))):
            assert response.status_code == 403
    assert commerce_state() == before


@pytest.mark.parametrize("route", SUBSCRIPTION_ROUTES, ids=lambda r: f"{r[1]} {r[0]} {r[3]}")
def test_an_outsider_store_owner_gets_404_and_changes_nothing(
        client, subscription, route, django_capture_on_commit_callbacks):
    outsider_gets_404_everywhere(client, route=route, obj=subscription,
                                 capture=django_capture_on_commit_callbacks)
