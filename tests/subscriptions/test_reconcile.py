"""Hourly reconciliation: repair what a missed callback left behind, and only that."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopkeep.events.models import Event
from shopkeep.payments.flows import subscriptions_reconcile
from shopkeep.payments.models import SandboxSubscription
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order

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


def _rows():
    return (list(Subscription.objects.values()), list(SandboxSubscription.objects.values()),
            Event.objects.count())


def test_in_agreement_nothing_is_repaired(store, sub):
    before = _rows()
    assert subscriptions_reconcile() == []
    assert _rows() == before


def test_reconcile_applies_a_renewal_the_callback_missed(store, sub):
    remote = SandboxSubscription.objects.get(pk=sub.gateway_subscription_id)
    remote.current_period_start = remote.current_period_end
    remote.current_period_end = remote.current_period_end + timedelta(days=30)
    remote.save()  # the provider renewed; its notice never arrived
    repairs = subscriptions_reconcile()
    sub.refresh_from_db()
    assert sub.current_period_end == remote.current_period_end
    assert sub.current_period_start == remote.current_period_start
    assert len(repairs) == 1 and "missed renewal" in repairs[0]
    assert _count(store, "subscription.renewed") == 1
    assert sub.renewals.get().succeeded
    before = _rows()
    assert subscriptions_reconcile() == []
    assert _rows() == before


def test_reconcile_cancels_what_the_gateway_cancelled(store, sub):
    SandboxSubscription.objects.filter(pk=sub.gateway_subscription_id).update(status="canceled")
    assert len(subscriptions_reconcile()) == 1
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is not None
    assert sub.cancel_reason == "Cancelled at the payment gateway"
    assert _count(store, "subscription.cancelled") == 1
    assert _count(store, "subscription.renewed") == 0
    before = _rows()
    assert subscriptions_reconcile() == []
    assert _rows() == before


def test_reconcile_cancels_at_the_gateway_what_we_cancelled(store, sub):
    Subscription.objects.filter(pk=sub.pk).update(status="canceled", ends_at=timezone.now(),
                                                  canceled_at=timezone.now())
    events = Event.objects.count()
    repairs = subscriptions_reconcile()
    assert len(repairs) == 1 and "cancelled at the gateway" in repairs[0]
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).status == "canceled"
    assert Event.objects.count() == events  # our side was already announced
    before = _rows()
    assert subscriptions_reconcile() == []
    assert _rows() == before


def test_reconcile_tells_the_gateway_about_a_dunning_cancellation(store, sub):
    from shopkeep.subscriptions.services import subscription_payment_failed

    for _ in range(4):
        subscription_payment_failed(store=sub.store, gateway="sandbox",
                                    subscription_id=sub.gateway_subscription_id,
                                    error_code="card_declined", error_message="",
                                    failed_at=timezone.now())
    sub.refresh_from_db()
    assert sub.status == "canceled"
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).status == "active"
    assert len(subscriptions_reconcile()) == 1
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).status == "canceled"
    assert subscriptions_reconcile() == []


def test_a_cancel_at_period_end_made_at_the_gateway_is_recorded(store, sub):
    SandboxSubscription.objects.filter(pk=sub.gateway_subscription_id).update(
        cancel_at_period_end=True)
    assert len(subscriptions_reconcile()) == 1
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ends_at == sub.current_period_end
    assert sub.ended_at is None and _count(store, "subscription.cancelled") == 1
    before = _rows()
    assert subscriptions_reconcile() == []
    assert _rows() == before
