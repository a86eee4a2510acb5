"""Subscription lifecycle: renewals, dunning, cancellation, end of access, reconciliation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopkeep.events.models import Event
from shopkeep.payments.gateways.sandbox import CARD_DECLINED, CARD_OK, SandboxGateway
from shopkeep.payments.models import SandboxSubscription
from shopkeep.stores.audit import Actor
from shopkeep.subscriptions.models import Subscription
from shopkeep.subscriptions.services import (
    DUNNING_RETRY_DELAYS,
    subscription_cancel,
    subscription_renewed,
    subscriptions_end_due,
    subscriptions_reconcile,
    subscriptions_retry_due,
)
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def sub(store, django_capture_on_commit_callbacks):
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    return Subscription.objects.get()


def _count(store, event_type: str) -> int:
    return Event.objects.filter(store=store, event_type=event_type).count()


def test_a_trial_subscription_starts_trialing_until_the_trial_ends(
        store, django_capture_on_commit_callbacks):
    product = make_product(store, name="Trial VIP", price="5.00", type="subscription",
                           billing_interval="week", trial_days=7)
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get()
    assert sub.status == "trialing"
    assert sub.trial_ends_at == sub.current_period_end
    assert (sub.current_period_end - sub.current_period_start).days == 7


def test_a_stale_renewal_notice_changes_nothing(store, sub):
    before = _count(store, "subscription.renewed")
    assert subscription_renewed(gateway="sandbox", subscription_id=sub.gateway_subscription_id,
                                period_start=sub.current_period_start,
                                period_end=sub.current_period_end, amount_minor=999,
                                renewed_at=timezone.now()) is None
    assert _count(store, "subscription.renewed") == before


def test_dunning_retries_on_the_written_schedule_then_cancels(
        store, sub, django_capture_on_commit_callbacks):
    sandbox = SandboxGateway()
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.simulate_renewal(subscription_id=sub.gateway_subscription_id,
                                 card_number=CARD_DECLINED)
    sub.refresh_from_db()
    assert (sub.status, sub.attempt_count) == ("past_due", 1)
    for attempt, delay in enumerate(DUNNING_RETRY_DELAYS[1:], start=2):
        first_retry = sub.next_retry_at
        with django_capture_on_commit_callbacks(execute=True):
            assert subscriptions_retry_due(now=first_retry) == 1
        sub.refresh_from_db()
        assert sub.attempt_count == attempt
        assert sub.next_retry_at - timezone.now() > delay - timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions_retry_due(now=sub.next_retry_at)
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.attempt_count == 4
    assert sub.cancel_reason == "Payment failed repeatedly" and sub.ended_at is not None
    assert _count(store, "subscription.payment_failed") == 4
    assert _count(store, "subscription.cancelled") == 1
    data = Event.objects.filter(event_type="subscription.payment_failed").latest("id").data
    assert data["attempt_count"] == 4 and data["next_retry_at"] is None


def test_a_retry_is_claimed_once(store, sub, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_renewal(subscription_id=sub.gateway_subscription_id,
                                          card_number=CARD_DECLINED)
    sub.refresh_from_db()
    due = sub.next_retry_at
    SandboxSubscription.objects.filter(pk=sub.gateway_subscription_id).update(
        card_number=CARD_OK)  # the customer fixed their card
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions_retry_due(now=due) == 1
        assert subscriptions_retry_due(now=due) == 0
    sub.refresh_from_db()
    assert sub.status == "active" and sub.attempt_count == 0
    assert _count(store, "subscription.renewed") == 1


def test_cancel_at_period_end_keeps_access_until_ends_at(store, sub):
    subscription_cancel(store=store, actor=Actor.for_user(owner_of(store)), subscription=sub,
                        at_period_end=True)
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is None
    assert subscriptions_end_due(now=sub.ends_at - timedelta(seconds=1)) == 0
    assert subscriptions_end_due(now=sub.ends_at) == 1
    sub.refresh_from_db()
    assert sub.ended_at is not None
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).cancel_at_period_end


def test_reconcile_applies_a_renewal_the_callback_missed(store, sub):
    remote = SandboxSubscription.objects.get(pk=sub.gateway_subscription_id)
    remote.current_period_start = remote.current_period_end
    remote.current_period_end = remote.current_period_end + timedelta(days=30)
    remote.save()  # the provider renewed; its notice never arrived
    repairs = subscriptions_reconcile()
    sub.refresh_from_db()
    assert sub.current_period_end == remote.current_period_end
    assert len(repairs) == 1 and _count(store, "subscription.renewed") == 1
    assert subscriptions_reconcile() == []
    assert _count(store, "subscription.renewed") == 1


def test_reconcile_cancels_what_the_gateway_cancelled(store, sub):
    SandboxSubscription.objects.filter(pk=sub.gateway_subscription_id).update(status="canceled")
    assert len(subscriptions_reconcile()) == 1
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is not None
    assert _count(store, "subscription.cancelled") == 1
    assert subscriptions_reconcile() == []


def test_reconcile_cancels_at_the_gateway_what_we_cancelled(store, sub):
    Subscription.objects.filter(pk=sub.pk).update(status="canceled", ends_at=timezone.now(),
                                                  canceled_at=timezone.now())
    assert len(subscriptions_reconcile()) == 1
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).status == "canceled"
