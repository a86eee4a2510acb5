"""Stripe subscriptions: Checkout in subscription mode, renewals, failures, cancellation and
the hourly reconciliation, against the fake Stripe API on 127.0.0.1."""

from __future__ import annotations

import pytest

from shopkeep.events.models import Event
from shopkeep.payments.flows import (
    subscription_cancel,
    subscriptions_reconcile,
    subscriptions_retry_due,
)
from shopkeep.payments.models import GatewayEvent
from shopkeep.stores.audit import Actor
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, place_order
from tests.factories import owner_of
from tests.payments.conftest import connect, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(fake_stripe):
    shop = make_shop()
    connect(shop, fake_stripe)
    return shop


def _monthly(store, **fields):
    return make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                        billing_interval="month", **fields)


@pytest.fixture
def started(client, fake_stripe, store):
    """A subscription bought through Checkout and paid by its first invoice."""
    order = place_order(store, _monthly(store))
    completed, first_invoice = fake_stripe.complete_session(order.gateway_session_id)
    assert post_event(client, store, completed).json()["outcomes"] == []
    post_event(client, store, first_invoice)
    order.refresh_from_db()
    return order, Subscription.objects.get(order=order)


def test_checkout_in_subscription_mode_carries_the_order(fake_stripe, store):
    order = place_order(store, _monthly(store, trial_days=7))
    params = fake_stripe.objects[order.gateway_session_id]["_params"]
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price_data"]["recurring"]["interval"] == "month"
    assert params["subscription_data"]["metadata"]["shopkeep_order"] == order.order_number
    assert params["subscription_data"]["trial_period_days"] == "7"


def test_the_first_invoice_pays_the_order_and_starts_the_subscription(started, fake_stripe):
    order, sub = started
    assert order.payment_status == "paid"
    assert order.gateway_payment_id.startswith("in_")
    stripe_sub = fake_stripe.objects[sub.gateway_subscription_id]
    assert sub.status == "active"
    assert int(sub.current_period_end.timestamp()) == \
        stripe_sub["items"]["data"][0]["current_period_end"]
    assert Event.objects.filter(event_type="subscription.created").count() == 1


def test_invoice_paid_renews(client, fake_stripe, store, started):
    _, sub = started
    paid, updated = fake_stripe.renew(sub.gateway_subscription_id)
    post_event(client, store, paid)
    post_event(client, store, updated)  # same period: nothing more
    sub.refresh_from_db()
    end = fake_stripe.objects[sub.gateway_subscription_id]["items"]["data"][0][
        "current_period_end"]
    assert int(sub.current_period_end.timestamp()) == end
    assert Event.objects.filter(event_type="subscription.renewed").count() == 1


def test_a_renewal_that_overtakes_the_first_payment_waits_for_it(client, fake_stripe, store):
    order = place_order(store, _monthly(store))
    _, first_invoice = fake_stripe.complete_session(order.gateway_session_id)
    renewal, _ = fake_stripe.renew(fake_stripe.objects[order.gateway_session_id]["subscription"])
    assert post_event(client, store, renewal).json()["outcomes"] == ["deferred"]
    post_event(client, store, first_invoice)
    sub = Subscription.objects.get(order=order)
    assert Event.objects.filter(event_type="subscription.renewed").count() == 1
    assert GatewayEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert sub.renewals.filter(succeeded=True).count() == 1


def test_invoice_payment_failed_records_the_failure_not_a_renewal(client, fake_stripe, store,
                                                                  started):
    _, sub = started
    before = sub.current_period_end
    failed, updated = fake_stripe.renew(sub.gateway_subscription_id, paid=False)
    post_event(client, store, failed)
    post_event(client, store, updated)  # Stripe moved the period on; unpaid, so not renewed
    sub.refresh_from_db()
    assert sub.status == "past_due" and sub.attempt_count == 1
    assert sub.current_period_end == before
    assert sub.next_retry_at is not None
    assert Event.objects.filter(event_type="subscription.payment_failed").count() == 1
    assert not Event.objects.filter(event_type="subscription.renewed").exists()


def test_customer_subscription_deleted_cancels(client, fake_stripe, store, started):
    _, sub = started
    (deleted,) = fake_stripe.cancel_in_dashboard(sub.gateway_subscription_id)
    post_event(client, store, deleted)
    post_event(client, store, deleted)
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is not None
    assert Event.objects.filter(event_type="subscription.cancelled").count() == 1


def test_cancel_at_period_end_set_in_stripe_is_recorded(client, fake_stripe, store, started):
    _, sub = started
    (updated,) = fake_stripe.cancel_in_dashboard(sub.gateway_subscription_id,
                                                 at_period_end=True)
    post_event(client, store, updated)
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.cancel_at_period_end
    assert sub.ends_at == sub.current_period_end and sub.ended_at is None


def test_cancel_at_period_end_from_the_dashboard_calls_stripe(fake_stripe, store, started):
    _, sub = started
    subscription_cancel(store=store, actor=Actor.for_user(owner_of(store)), subscription=sub,
                        at_period_end=True)
    assert fake_stripe.objects[sub.gateway_subscription_id]["cancel_at_period_end"] is True
    assert fake_stripe.objects[sub.gateway_subscription_id]["status"] == "active"
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is None


def test_cancel_now_deletes_the_stripe_subscription(fake_stripe, store, started):
    _, sub = started
    subscription_cancel(store=store, actor=Actor.for_user(owner_of(store)), subscription=sub,
                        at_period_end=False)
    assert fake_stripe.objects[sub.gateway_subscription_id]["status"] == "canceled"


def test_a_cancel_stripe_refuses_changes_nothing(fake_stripe, store, started):
    from shopkeep.core.errors import ServiceError

    _, sub = started
    del fake_stripe.objects[sub.gateway_subscription_id]
    with pytest.raises(ServiceError, match="No such subscription"):
        subscription_cancel(store=store, actor=Actor.for_user(owner_of(store)),
                            subscription=sub, at_period_end=True)
    sub.refresh_from_db()
    assert sub.status == "active"
    assert not Event.objects.filter(event_type="subscription.cancelled").exists()


def test_reconcile_applies_a_renewal_whose_webhook_was_missed(fake_stripe, started):
    _, sub = started
    fake_stripe.renew(sub.gateway_subscription_id)  # events never delivered
    repairs = subscriptions_reconcile()
    assert any("missed renewal applied" in line for line in repairs)
    sub.refresh_from_db()
    assert int(sub.current_period_end.timestamp()) == fake_stripe.objects[
        sub.gateway_subscription_id]["items"]["data"][0]["current_period_end"]
    assert subscriptions_reconcile() == []


def test_reconcile_applies_a_cancellation_made_in_stripe(fake_stripe, started):
    _, sub = started
    fake_stripe.cancel_in_dashboard(sub.gateway_subscription_id)  # event missed
    assert any("cancelled, as at the gateway" in line for line in subscriptions_reconcile())
    sub.refresh_from_db()
    assert sub.status == "canceled"


def test_a_dunning_retry_asks_stripe_to_pay_the_open_invoice(client, fake_stripe, store,
                                                            started):
    _, sub = started
    failed, _ = fake_stripe.renew(sub.gateway_subscription_id, paid=False)
    post_event(client, store, failed)
    sub.refresh_from_db()
    assert subscriptions_retry_due(now=sub.next_retry_at) == 1
    invoice = fake_stripe.objects[failed["data"]["object"]["id"]]
    assert invoice["status"] == "paid"
    assert any(r["path"] == f"/v1/invoices/{invoice['id']}/pay" for r in fake_stripe.requests)


def test_a_declined_dunning_retry_waits_for_stripes_webhook(client, fake_stripe, store,
                                                           started):
    _, sub = started
    failed, _ = fake_stripe.renew(sub.gateway_subscription_id, paid=False)
    post_event(client, store, failed)
    sub.refresh_from_db()
    fake_stripe.fail_next = {"code": "card_declined", "message": "Your card was declined."}
    assert subscriptions_retry_due(now=sub.next_retry_at) == 1
    sub.refresh_from_db()
    assert sub.status == "past_due" and sub.attempt_count == 1


def test_a_tier_upgrade_takes_the_credit_off_the_first_invoice_only(
        client, fake_stripe, store, started):
    from decimal import Decimal

    from shopkeep.promotions.tiers import TierGroupInput, tier_group_create

    _, old = started
    mvp = make_product(store, name="MVP Monthly", price="29.99", type="subscription",
                       billing_interval="month")
    tier_group_create(store=store, actor=Actor.for_user(owner_of(store)), data=TierGroupInput(
        name="Ranks", product_ids=[old.product_id, mvp.pk]))
    upgrade = place_order(store, mvp)
    credit = upgrade.items.get().upgrade_credit
    assert Decimal("9.00") < credit <= Decimal("9.99")
    params = fake_stripe.objects[upgrade.gateway_session_id]["_params"]
    assert params["line_items"][0]["price_data"]["unit_amount"] == "2999"  # renewals
    coupon = fake_stripe.objects[params["discounts"][0]["coupon"]]
    assert coupon["duration"] == "once" and coupon["amount_off"] == int(credit * 100)
    completed, first_invoice = fake_stripe.complete_session(upgrade.gateway_session_id)
    assert first_invoice["data"]["object"]["amount_paid"] == 2999 - int(credit * 100)
    post_event(client, store, completed)
    post_event(client, store, first_invoice)
    old.refresh_from_db()
    new = Subscription.objects.get(order=upgrade)
    assert old.status == "canceled" and old.ended_at is not None
    assert new.amount == Decimal("29.99")
