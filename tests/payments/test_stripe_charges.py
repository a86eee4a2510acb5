"""Stripe refunds (ours and those made in Stripe's dashboard) and disputes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from shopkeep.events.models import Event
from shopkeep.orders.models import Refund
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.payments.stripe_charges import stripe_charge_event_apply
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, make_shop, place_order
from tests.factories import owner_of
from tests.payments.conftest import connect, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(fake_stripe):
    shop = make_shop()
    connect(shop, fake_stripe)
    return shop


@pytest.fixture
def paid(client, fake_stripe, store):
    order = place_order(store, make_product(store, price="29.99"))
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    post_event(client, store, completed)
    order.refresh_from_db()
    assert order.payment_status == "paid"
    return order


def run_stripe_tasks() -> list[list[str]]:
    """Run what the webhook queued, from the stored (JSON) arguments, as the worker would."""
    outcomes = []
    for row in DBTaskResult.objects.filter(task_path__endswith="stripe_charge_event",
                                           status="READY").order_by("enqueued_at"):
        connection_id, event = row.args_kwargs["args"]
        outcomes.append(stripe_charge_event_apply(connection_id=connection_id, event=event))
        row.delete()
    return outcomes


def test_a_dashboard_refund_calls_stripe_once_with_our_key(fake_stripe, store, paid):
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=paid,
                            amount="10.00", reason="changed mind")
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    assert refund_execute(refund_id=refund.pk) == "nothing to do"
    calls = [r for r in fake_stripe.requests if r["path"] == "/v1/refunds"
             and r["method"] == "POST"]
    assert len(calls) == 1
    assert calls[0]["idempotency_key"] == f"shopkeep-refund-{refund.pk}"
    assert calls[0]["params"]["amount"] == "1000"
    assert calls[0]["params"]["payment_intent"] == paid.gateway_payment_id
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("10.00") and paid.status == "partially_refunded"


def test_charge_refunded_for_our_own_refund_records_nothing_more(client, fake_stripe, store,
                                                                 paid):
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=paid,
                            amount=None)
    refund_execute(refund_id=refund.pk)
    charge = fake_stripe.charge_of(paid.gateway_payment_id)
    post_event(client, store, fake_stripe.charge_refunded_event(charge["id"]))
    run_stripe_tasks()
    assert Refund.objects.filter(order=paid).count() == 1
    assert Event.objects.filter(event_type="order.refunded").count() == 1


def test_charge_refunded_settles_our_refund_when_the_webhook_comes_first(client, fake_stripe,
                                                                         store, paid):
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=paid,
                            amount="5.00")
    gateway_refund = fake_stripe._refund(fake_stripe.charge_of(paid.gateway_payment_id), 500,
                                         metadata={"shopkeep_refund_key":
                                                   f"shopkeep-refund-{refund.pk}"})
    post_event(client, store, fake_stripe.charge_refunded_event(gateway_refund["charge"]))
    assert run_stripe_tasks() == [[f"refund {refund.pk} settled"]]
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.gateway_refund_id == gateway_refund["id"]


def test_a_refund_made_in_stripes_dashboard_is_applied_once(client, fake_stripe, store, paid):
    charge = fake_stripe.charge_of(paid.gateway_payment_id)
    (event,) = fake_stripe.refund_in_dashboard(charge["id"], 999)
    response = post_event(client, store, event)
    assert response.json() == {"received": True, "queued": "charge.refunded"}
    assert Refund.objects.count() == 0  # nothing happens inside the request
    post_event(client, store, event)  # Stripe delivers it again
    run_stripe_tasks()
    refund = Refund.objects.get(order=paid)
    assert refund.amount == Decimal("9.99") and refund.requested_by == "stripe"
    assert Event.objects.filter(event_type="order.refunded").count() == 1
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("9.99")


def test_a_refund_stripe_refuses_fails_and_changes_nothing(fake_stripe, store, paid):
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=paid,
                            amount="10.00")
    fake_stripe._refund(fake_stripe.charge_of(paid.gateway_payment_id), 2999, metadata={})
    assert refund_execute(refund_id=refund.pk) == "failed"
    refund.refresh_from_db()
    assert refund.status == "failed" and "amount_too_large" in refund.error
    paid.refresh_from_db()
    assert paid.refunded_amount == 0


def test_refunding_a_subscription_order_refunds_its_first_invoice(client, fake_stripe, store):
    order = place_order(store, make_product(store, name="VIP", price="9.99",
                                            type="subscription", billing_interval="month"))
    _, invoice_paid = fake_stripe.complete_session(order.gateway_session_id)
    post_event(client, store, invoice_paid)
    order.refresh_from_db()
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=order,
                            amount=None)
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    (call,) = [r for r in fake_stripe.requests if r["path"] == "/v1/refunds"]
    assert call["params"]["payment_intent"].startswith("pi_")


def test_a_dispute_opens_and_closes_with_amounts_in_cents(client, fake_stripe, store, paid):
    charge = fake_stripe.charge_of(paid.gateway_payment_id)
    opened = fake_stripe.dispute(charge["id"])
    dispute_id = opened["data"]["object"]["id"]
    closed = fake_stripe.dispute(charge["id"], status="lost", dispute_id=dispute_id)
    post_event(client, store, opened)
    post_event(client, store, opened)
    post_event(client, store, closed)
    assert run_stripe_tasks() == [["dispute opened"], ["duplicate"], ["dispute resolved"]]
    created = Event.objects.get(event_type="dispute.created")
    assert created.data["amount"] == 2999 and created.data["dispute_id"] == dispute_id
    resolved = Event.objects.get(event_type="dispute.resolved")
    assert resolved.data["status"] == "lost"
    paid.refresh_from_db()
    assert paid.status == "disputed"


def test_a_dispute_close_that_overtakes_its_open_opens_it_first(client, fake_stripe, store,
                                                                paid):
    charge = fake_stripe.charge_of(paid.gateway_payment_id)
    opened = fake_stripe.dispute(charge["id"])
    closed = fake_stripe.dispute(charge["id"], status="won",
                                 dispute_id=opened["data"]["object"]["id"])
    post_event(client, store, closed)
    post_event(client, store, opened)
    run_stripe_tasks()
    assert Event.objects.filter(event_type="dispute.created").count() == 1
    assert Event.objects.filter(event_type="dispute.resolved").count() == 1
    paid.refresh_from_db()
    assert paid.status != "disputed"


def test_a_charge_event_of_another_stores_payment_changes_nothing(client, fake_stripe, store):
    other = make_shop()
    connect(other, fake_stripe, key="sk_test_51OtherStoreKey0000000000efgh")
    theirs = place_order(other, make_product(other))
    completed, _ = fake_stripe.complete_session(theirs.gateway_session_id)
    post_event(client, other, completed)
    theirs.refresh_from_db()
    charge = fake_stripe.charge_of(theirs.gateway_payment_id)
    post_event(client, store, fake_stripe.dispute(charge["id"]))  # sent to the wrong store
    assert run_stripe_tasks() == [["ignored: no order of this store for this charge"]]
    theirs.refresh_from_db()
    assert theirs.status != "disputed"
