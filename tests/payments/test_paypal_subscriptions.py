"""PayPal subscriptions (Billing Plans and Subscriptions on the fake PayPal): plans made
from products, activation on return or webhook, renewals, failures, cancellation from
either side, dunning retries and the hourly reconciliation."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.refunds import refund_key
from shopkeep.payments.flows import (
    refund_execute,
    refund_request,
    subscription_cancel,
    subscriptions_reconcile,
    subscriptions_retry_due,
)
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.payments.models import PayPalPlan
from shopkeep.payments.paypal_worker import paypal_sale_apply
from shopkeep.stores.audit import Actor
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, place_order
from tests.factories import owner_of
from tests.payments.conftest import connect_paypal, post_paypal

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(fake_paypal):
    shop = make_shop()
    connect_paypal(shop, fake_paypal)
    return shop


def _monthly(store, **fields):
    return make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                        billing_interval="month", **fields)


def run_sale_tasks() -> list[list[str]]:
    outcomes = []
    for row in DBTaskResult.objects.filter(task_path__endswith="paypal_sale_event",
                                           status="READY").order_by("enqueued_at"):
        connection_id, event = row.args_kwargs["args"]
        outcomes.append(paypal_sale_apply(connection_id=connection_id, event=event))
        row.delete()
    return outcomes


def _return(client, fake, order):
    sub = fake.objects[order.gateway_session_id]
    url = urlsplit(sub["_context"]["return_url"])
    return client.get(f"{url.path}?{url.query}&subscription_id={sub['id']}"
                      f"&ba_token={sub['_token']}&token=EC-1")


@pytest.fixture
def started(client, fake_paypal, store):
    """Bought, approved at PayPal and back on the return page."""
    order = place_order(store, _monthly(store))
    events = fake_paypal.approve_subscription(order.gateway_session_id)
    assert _return(client, fake_paypal, order).status_code == 303
    order.refresh_from_db()
    return order, Subscription.objects.get(order=order), events


def test_checkout_makes_a_product_a_plan_and_a_subscription_at_paypal(fake_paypal, store):
    product = _monthly(store, trial_days=7)
    order = place_order(store, product)
    sub = fake_paypal.objects[order.gateway_session_id]
    assert sub["status"] == "APPROVAL_PENDING" and sub["custom_id"] == order.order_number
    plan = fake_paypal.objects[sub["plan_id"]]
    trial, regular = plan["billing_cycles"]
    assert trial["tenure_type"] == "TRIAL" and trial["frequency"]["interval_count"] == 7
    assert regular["frequency"] == {"interval_unit": "MONTH", "interval_count": 1}
    assert regular["pricing_scheme"]["fixed_price"] == {"currency_code": "USD", "value": "9.99"}
    assert PayPalPlan.objects.get(product=product).plan_id == plan["id"]
    # A second buyer of the same product and price gets the same plan.
    place_order(store, product, email="other@example.com")
    assert len([r for r in fake_paypal.requests if r["path"] == "/v1/billing/plans"]) == 1
    assert PayPalPlan.objects.count() == 1


def test_the_return_reads_the_subscription_and_starts_it_when_active(started, fake_paypal):
    order, sub, _ = started
    assert order.payment_status == "paid"
    assert order.gateway_payment_id == sub.gateway_subscription_id
    paypal_sub = fake_paypal.objects[sub.gateway_subscription_id]
    assert sub.status == "active" and sub.payment_gateway == "paypal"
    assert sub.current_period_end.strftime("%Y-%m-%dT%H:%M:%SZ") == \
        paypal_sub["billing_info"]["next_billing_time"]
    assert Event.objects.filter(event_type="subscription.created").count() == 1


def test_returning_before_paypal_activates_pays_nothing(client, fake_paypal, store):
    order = place_order(store, _monthly(store))
    assert _return(client, fake_paypal, order).status_code == 303
    order.refresh_from_db()
    assert order.paid_at is None and not Subscription.objects.exists()


def test_the_activation_webhook_alone_starts_it_and_the_first_sale_changes_nothing(
        client, fake_paypal, store):
    order = place_order(store, _monthly(store))
    activated, first_sale = fake_paypal.approve_subscription(order.gateway_session_id)
    assert post_paypal(client, store, activated, fake_paypal).json()["outcomes"] == [
        f"order {order.order_number} paid"]
    assert post_paypal(client, store, first_sale, fake_paypal).json()["outcomes"] == [
        "queued: PAYMENT.SALE.COMPLETED"]
    assert run_sale_tasks() == [["subscription.renewed: nothing to change"]]
    assert not Event.objects.filter(event_type="subscription.renewed").exists()


def test_a_renewal_moves_the_period_to_paypals_next_billing_time(client, fake_paypal, store,
                                                                 started):
    _, sub, _ = started
    before = sub.current_period_end
    (sale,) = fake_paypal.renew(sub.gateway_subscription_id)
    post_paypal(client, store, sale, fake_paypal)
    assert run_sale_tasks() == [["subscription.renewed applied"]]
    sub.refresh_from_db()
    assert sub.current_period_end > before
    assert Event.objects.filter(event_type="subscription.renewed").count() == 1
    post_paypal(client, store, sale, fake_paypal)  # PayPal resends
    assert run_sale_tasks() == []


def test_a_failed_renewal_makes_it_past_due(client, fake_paypal, store, started):
    _, sub, _ = started
    (failed,) = fake_paypal.renew(sub.gateway_subscription_id, paid=False)
    assert post_paypal(client, store, failed, fake_paypal).json()["outcomes"] == [
        "subscription.payment_failed applied"]
    sub.refresh_from_db()
    assert sub.status == "past_due" and sub.next_retry_at is not None


def test_a_dunning_retry_asks_paypal_to_capture_the_outstanding_balance(client, fake_paypal,
                                                                        store, started):
    _, sub, _ = started
    (failed,) = fake_paypal.renew(sub.gateway_subscription_id, paid=False)
    post_paypal(client, store, failed, fake_paypal)
    Subscription.objects.filter(pk=sub.pk).update(next_retry_at=timezone.now())
    assert subscriptions_retry_due() == 1
    (call,) = [r for r in fake_paypal.requests if r["path"].endswith("/capture")
               and "subscriptions" in r["path"]]
    assert call["body"]["capture_type"] == "OUTSTANDING_BALANCE"
    assert call["body"]["amount"] == {"currency_code": "USD", "value": "9.99"}


def test_a_cancellation_by_the_buyer_at_paypal_keeps_the_paid_period(client, fake_paypal,
                                                                     store, started):
    _, sub, _ = started
    (cancelled,) = fake_paypal.cancel_by_buyer(sub.gateway_subscription_id)
    post_paypal(client, store, cancelled, fake_paypal)
    sub.refresh_from_db()
    assert sub.cancel_at_period_end and sub.ended_at is None
    assert sub.ends_at == sub.current_period_end


def test_cancelling_in_the_dashboard_cancels_at_paypal(fake_paypal, store, started):
    _, sub, _ = started
    subscription_cancel(store=store, actor=Actor.for_user(owner_of(store)), subscription=sub,
                        at_period_end=True)
    assert fake_paypal.objects[sub.gateway_subscription_id]["status"] == "CANCELLED"
    sub.refresh_from_db()
    assert sub.status == "canceled" and sub.ended_at is None
    # The hourly reconciliation finds it cancelled at PayPal too and leaves it be.
    assert subscriptions_reconcile() == []


def test_reconcile_applies_a_renewal_whose_webhook_was_missed(fake_paypal, started):
    _, sub, _ = started
    before = sub.current_period_end
    fake_paypal.renew(sub.gateway_subscription_id)  # the event never arrives
    repairs = subscriptions_reconcile(now=timezone.now() + timedelta(minutes=1))
    assert repairs == [f"subscription {sub.pk} ({sub.gateway_subscription_id}): "
                       "missed renewal applied"]
    sub.refresh_from_db()
    assert sub.current_period_end > before


def test_a_sale_for_another_stores_subscription_changes_nothing(fake_paypal, store, started):
    *_, events = started
    other = make_shop()
    connection = connect_paypal(other, fake_paypal,
                                client_id="AotherStoreClientId000000000000000000002",
                                secret="EotherStoreSecret00000000000000000000000002")
    sale = next(e for e in events if e["event_type"] == "PAYMENT.SALE.COMPLETED")
    with pytest.raises(GatewayError) as err:  # that app's PayPal does not know it
        paypal_sale_apply(connection_id=connection.pk, event=sale)
    assert err.value.code == "invalid_resource_id"
    assert Subscription.objects.filter(store=other).count() == 0


def test_a_dispute_on_a_subscription_payment_finds_its_order(client, fake_paypal, store,
                                                             started):
    order, _, events = started
    sale = next(e for e in events if e["event_type"] == "PAYMENT.SALE.COMPLETED")["resource"]
    (created,) = fake_paypal.dispute(sale["id"], dispute_id="PP-D-SUB1")
    assert post_paypal(client, store, created, fake_paypal).json()["outcomes"] == [
        "dispute opened"]
    dispute = Dispute.objects.get(order=order)
    assert dispute.amount_minor == 999 and dispute.payment_gateway == "paypal"


def test_a_subscription_order_is_refunded_through_its_first_sale(fake_paypal, store, started):
    order, _, events = started
    sale = next(e for e in events if e["event_type"] == "PAYMENT.SALE.COMPLETED")["resource"]
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=order,
                            amount="4.00", reason="")
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    (call,) = [r for r in fake_paypal.requests if r["path"].endswith("/refund")]
    assert call["path"] == f"/v1/payments/sale/{sale['id']}/refund"
    assert call["request_id"] == refund_key(refund)
    assert call["body"]["amount"] == {"total": "4.00", "currency": "USD"}
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.gateway_refund_id.startswith("SR")
