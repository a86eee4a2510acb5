"""Subscription lifecycle: start, renewals, dunning, cancellation, end of access."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopkeep.core.errors import Conflict
from shopkeep.events.models import Event
from shopkeep.payments.flows import (
    subscription_cancel,
    subscriptions_end_due,
    subscriptions_retry_due,
)
from shopkeep.payments.gateways.sandbox import CARD_DECLINED, CARD_OK, SandboxGateway
from shopkeep.payments.models import SandboxCharge, SandboxSubscription
from shopkeep.stores.audit import Actor
from shopkeep.subscriptions.models import Renewal, Subscription
from shopkeep.subscriptions.services import DUNNING_RETRY_DELAYS, subscription_renewed
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
    assert subscription_renewed(store=sub.store,
                                gateway="sandbox", subscription_id=sub.gateway_subscription_id,
                                period_start=sub.current_period_start,
                                period_end=sub.current_period_end, amount_minor=999,
                                renewed_at=timezone.now()) is None
    assert _count(store, "subscription.renewed") == before


def _last_failure(store) -> dict:
    return Event.objects.filter(store=store, event_type="subscription.payment_failed").latest(
        "id").data


def test_dunning_retries_on_the_written_schedule_then_cancels(
        store, sub, django_capture_on_commit_callbacks):
    assert [d.days for d in DUNNING_RETRY_DELAYS] == [3, 5, 7]
    sandbox = SandboxGateway()
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.simulate_renewal(subscription_id=sub.gateway_subscription_id,
                                 card_number=CARD_DECLINED)
    sub.refresh_from_db()
    assert (sub.status, sub.attempt_count) == ("past_due", 1)
    # Each retry is due exactly its delay after the failure that scheduled it.
    failed_at = datetime.fromisoformat(_last_failure(store)["failed_at"])
    assert sub.next_retry_at - failed_at == timedelta(days=3)
    assert sub.ended_at is None and sub.ends_at is None  # access continues while dunning
    for attempt, delay in enumerate(DUNNING_RETRY_DELAYS[1:], start=2):
        due = sub.next_retry_at
        assert subscriptions_retry_due(now=due - timedelta(seconds=1)) == 0
        with django_capture_on_commit_callbacks(execute=True):
            assert subscriptions_retry_due(now=due) == 1
        sub.refresh_from_db()
        data = _last_failure(store)
        assert (sub.status, sub.attempt_count, data["attempt_count"]) == (
            "past_due", attempt, attempt)
        failed_at = datetime.fromisoformat(data["failed_at"])
        assert sub.next_retry_at - failed_at == delay
        assert datetime.fromisoformat(data["next_retry_at"]) == sub.next_retry_at
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


def test_a_renewal_moves_the_period_on_and_is_recorded(store, sub,
                                                       django_capture_on_commit_callbacks):
    old_end = sub.current_period_end
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_renewal(subscription_id=sub.gateway_subscription_id)
    sub.refresh_from_db()
    assert sub.current_period_start == old_end and sub.current_period_end > old_end
    assert (sub.status, sub.attempt_count, sub.next_retry_at) == ("active", 0, None)
    renewal = Renewal.objects.get(subscription=sub)
    assert renewal.succeeded and renewal.amount == Decimal("9.99")
    assert renewal.period_end == sub.current_period_end
    assert _count(store, "subscription.renewed") == 1
    data = Event.objects.get(event_type="subscription.renewed").data
    assert data["next_billing_date"] == sub.current_period_end.date().isoformat()


def test_a_trial_becomes_active_when_the_first_period_is_billed(
        store, django_capture_on_commit_callbacks):
    product = make_product(store, name="Trial VIP", price="5.00", type="subscription",
                           billing_interval="week", trial_days=7)
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().bill_due(now=sub.current_period_end)
    sub.refresh_from_db()
    assert sub.status == "active" and (sub.current_period_end - sub.current_period_start).days == 7
    assert sub.trial_ends_at == sub.current_period_start


def test_a_customer_cancel_at_period_end_keeps_access_until_ends_at(store, sub):
    subscription_cancel(store=store, actor=Actor.system("storefront"), subscription=sub,
                        at_period_end=True, by_customer=True)
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.cancel_at_period_end
    assert sub.ends_at == sub.current_period_end and sub.ended_at is None
    assert sub.cancel_reason == "Customer requested cancellation"
    assert _count(store, "subscription.cancelled") == 1
    assert subscriptions_end_due(now=sub.ends_at - timedelta(seconds=1)) == 0
    sub.refresh_from_db()
    assert sub.ended_at is None
    assert subscriptions_end_due(now=sub.ends_at) == 1
    assert subscriptions_end_due(now=sub.ends_at + timedelta(days=1)) == 0  # ends once
    sub.refresh_from_db()
    assert sub.ended_at == sub.ends_at
    remote = SandboxSubscription.objects.get(pk=sub.gateway_subscription_id)
    assert remote.cancel_at_period_end and remote.status == "active"
    assert _count(store, "subscription.cancelled") == 1
    with pytest.raises(Conflict):
        subscription_cancel(store=store, actor=Actor.for_user(owner_of(store)),
                            subscription=sub)


def test_an_immediate_cancel_ends_access_at_once(store, sub):
    subscription_cancel(store=store, actor=Actor.for_user(owner_of(store)), subscription=sub,
                        at_period_end=False, reason="Chargeback risk")
    sub.refresh_from_db()
    assert sub.status == "canceled" and not sub.cancel_at_period_end
    assert sub.ended_at is not None and sub.ends_at <= timezone.now()
    assert sub.cancel_reason == "Chargeback risk"
    assert SandboxSubscription.objects.get(pk=sub.gateway_subscription_id).status == "canceled"
    assert subscriptions_end_due(now=timezone.now() + timedelta(days=60)) == 0
    assert _count(store, "subscription.cancelled") == 1


def test_a_store_cannot_cancel_another_stores_subscription(store, sub):
    other = make_shop()
    with pytest.raises(Conflict):
        subscription_cancel(store=other, actor=Actor.for_user(owner_of(other)),
                            subscription=sub)
    sub.refresh_from_db()
    assert sub.status == "active" and _count(store, "subscription.cancelled") == 0


def test_a_retry_whose_worker_died_after_the_claim_comes_due_again(
        store, sub, django_capture_on_commit_callbacks):
    from shopkeep.subscriptions.services import RETRY_CLAIM_LEASE

    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_renewal(subscription_id=sub.gateway_subscription_id,
                                          card_number=CARD_DECLINED)
    sub.refresh_from_db()
    due = sub.next_retry_at
    # The claim committed, then the worker died before asking the gateway:
    Subscription.objects.filter(pk=sub.pk).update(next_retry_at=due + RETRY_CLAIM_LEASE)
    assert subscriptions_retry_due(now=due + RETRY_CLAIM_LEASE - timedelta(seconds=1)) == 0
    SandboxSubscription.objects.filter(pk=sub.gateway_subscription_id).update(
        card_number=CARD_OK)
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions_retry_due(now=due + RETRY_CLAIM_LEASE) == 1
    sub.refresh_from_db()
    assert (sub.status, sub.next_retry_at) == ("active", None)
    assert _count(store, "subscription.renewed") == 1


def test_a_retry_run_again_after_the_gateway_billed_bills_nothing_more(
        store, sub, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        SandboxGateway().simulate_renewal(subscription_id=sub.gateway_subscription_id,
                                          card_number=CARD_DECLINED)
    SandboxSubscription.objects.filter(pk=sub.gateway_subscription_id).update(
        card_number=CARD_OK)
    sub.refresh_from_db()
    due = sub.next_retry_at
    with django_capture_on_commit_callbacks(execute=False):  # its notice not applied yet
        assert subscriptions_retry_due(now=due) == 1
    charges = SandboxCharge.objects.count()
    Subscription.objects.filter(pk=sub.pk).update(next_retry_at=due)  # as if it ran again
    assert subscriptions_retry_due(now=due) == 0  # the gateway has nothing open
    assert SandboxCharge.objects.count() == charges
