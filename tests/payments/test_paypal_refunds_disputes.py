"""PayPal refunds (ours through the worker, and ones made in PayPal's dashboard) and
CUSTOMER.DISPUTE.* events as Shopkeep disputes, on the fake PayPal."""

from __future__ import annotations

import pytest

from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.models import Refund
from shopkeep.orders.refunds import refund_key
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.payments.gateways.paypal import PayPalGateway
from shopkeep.payments.models import PayPalConnection
from shopkeep.payments.paypal_worker import paypal_capture_apply
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, make_shop, place_order
from tests.factories import owner_of
from tests.payments.conftest import connect_paypal, post_paypal

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(fake_paypal):
    shop = make_shop()
    connect_paypal(shop, fake_paypal)
    return shop


@pytest.fixture
def paid(fake_paypal, store):
    order = place_order(store, make_product(store, price="29.99"))
    fake_paypal.approve(order.gateway_session_id)
    connection = PayPalConnection.objects.get(store=store)
    paypal_capture_apply(connection_id=connection.pk, paypal_order_id=order.gateway_session_id)
    order.refresh_from_db()
    assert order.payment_status == "paid"
    return order


def _refund(store, order, amount):
    return refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=order,
                          amount=amount, reason="changed mind")


def test_a_partial_refund_is_made_once_with_the_refund_key_as_request_id(fake_paypal, store,
                                                                         paid):
    refund = _refund(store, paid, "10.00")
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    assert refund_execute(refund_id=refund.pk) == "nothing to do"
    calls = [r for r in fake_paypal.requests if r["path"].endswith("/refund")]
    assert len(calls) == 1
    assert calls[0]["path"] == f"/v2/payments/captures/{paid.gateway_payment_id}/refund"
    assert calls[0]["request_id"] == refund_key(refund)
    assert calls[0]["body"]["amount"] == {"currency_code": "USD", "value": "10.00"}
    assert calls[0]["body"]["custom_id"] == refund_key(refund)
    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == "succeeded" and refund.gateway_refund_id.startswith("REF")
    assert paid.status == "partially_refunded"


def test_the_rest_refunded_makes_the_order_refunded(fake_paypal, store, paid):
    refund_execute(refund_id=_refund(store, paid, "10.00").pk)
    refund_execute(refund_id=_refund(store, paid, None).pk)
    paid.refresh_from_db()
    assert paid.status == "refunded"
    capture = fake_paypal.objects[paid.gateway_payment_id]
    assert capture["status"] == "REFUNDED"


def test_a_refund_paypal_refuses_is_marked_failed(fake_paypal, store, paid):
    refund = _refund(store, paid, "10.00")
    capture = fake_paypal.objects[paid.gateway_payment_id]
    capture["_refunded"] = capture["_refunded"] + 25  # refunded at PayPal meanwhile
    assert refund_execute(refund_id=refund.pk) == "failed"
    refund.refresh_from_db()
    assert refund.status == "failed" and "refund_amount_exceeded" in refund.error


def test_refund_lookup_finds_our_refund_by_its_key(fake_paypal, store, paid):
    refund = _refund(store, paid, "5.00")
    refund_execute(refund_id=refund.pk)
    gateway = PayPalGateway.for_store(store)
    found = gateway.refund_lookup(payment_id=paid.gateway_payment_id,
                                  idempotency_key=refund_key(refund))
    assert found is not None and found.status == "succeeded"
    assert gateway.refund_lookup(payment_id=paid.gateway_payment_id,
                                 idempotency_key="shopkeep-refund-999999") is None


def test_a_refund_lost_on_the_way_back_is_answered_again_not_made_twice(fake_paypal, store,
                                                                        paid):
    refund = _refund(store, paid, "5.00")
    gateway = PayPalGateway.for_store(store)
    first = gateway.refund(payment_id=paid.gateway_payment_id, amount_minor=500,
                           currency="USD", reason="", idempotency_key=refund_key(refund))
    assert refund_execute(refund_id=refund.pk) == "succeeded"  # the worker's retry
    refund.refresh_from_db()
    assert refund.gateway_refund_id == first.refund_id
    assert fake_paypal.objects[paid.gateway_payment_id]["status"] == "PARTIALLY_REFUNDED"
    assert str(fake_paypal.objects[paid.gateway_payment_id]["_refunded"]) == "5.00"


def test_a_refund_made_in_paypals_dashboard_is_recorded_once(client, fake_paypal, store, paid):
    (event,) = fake_paypal.refund_in_dashboard(paid.gateway_payment_id, "29.99")
    assert post_paypal(client, store, event, fake_paypal).json()["outcomes"] == [
        "refund recorded"]
    assert post_paypal(client, store, event, fake_paypal).json()["outcomes"] == ["duplicate"]
    (refund,) = Refund.objects.filter(order=paid)
    assert refund.amount == paid.total and refund.status == "succeeded"
    paid.refresh_from_db()
    assert paid.status == "refunded"
    assert Event.objects.filter(event_type="order.refunded").count() == 1


def test_our_refunds_webhook_settles_nothing_twice(client, fake_paypal, store, paid):
    refund = _refund(store, paid, "10.00")
    refund_execute(refund_id=refund.pk)
    refund_obj = next(o for o in fake_paypal.objects.values() if o.get("_kind") == "refund")
    event = fake_paypal.event("PAYMENT.CAPTURE.REFUNDED", refund_obj, resource_type="refund")
    assert post_paypal(client, store, event, fake_paypal).json()["outcomes"] == [
        "refund already settled"]
    assert Refund.objects.filter(order=paid).count() == 1


# -- disputes --------------------------------------------------------------------------------

def test_a_dispute_becomes_a_shopkeep_dispute_in_minor_units(client, fake_paypal, store, paid):
    (created,) = fake_paypal.dispute(paid.gateway_payment_id, dispute_id="PP-D-1001")
    assert post_paypal(client, store, created, fake_paypal).json()["outcomes"] == [
        "dispute opened"]
    dispute = Dispute.objects.get(order=paid)
    assert dispute.payment_gateway == "paypal" and dispute.gateway_dispute_id == "PP-D-1001"
    assert dispute.amount_minor == 2999 and dispute.currency == "USD"
    assert dispute.reason == "product_not_received"
    assert dispute.charge_id == paid.gateway_payment_id
    assert dispute.evidence_due_by is not None
    data = Event.objects.get(event_type="dispute.created").data
    assert data["payment_gateway"] == "paypal" and data["amount"] == 2999
    assert data["dispute_id"] == "PP-D-1001"
    paid.refresh_from_db()
    assert paid.status == "disputed"
    assert post_paypal(client, store, created, fake_paypal).json()["outcomes"] == ["duplicate"]


@pytest.mark.parametrize(("outcome", "stage", "final"), [
    ("RESOLVED_BUYER_FAVOUR", "CHARGEBACK", "lost"),
    ("RESOLVED_SELLER_FAVOUR", "CHARGEBACK", "won"),
    ("CANCELED_BY_BUYER", "INQUIRY", "warning_closed"),
])
def test_a_resolved_dispute_gets_seed_002s_status(client, fake_paypal, store, paid, outcome,
                                                   stage, final):
    (created,) = fake_paypal.dispute(paid.gateway_payment_id, dispute_id="PP-D-2002",
                                     stage=stage)
    post_paypal(client, store, created, fake_paypal)
    (resolved,) = fake_paypal.dispute(paid.gateway_payment_id, dispute_id="PP-D-2002",
                                      status="RESOLVED", outcome=outcome, stage=stage)
    assert post_paypal(client, store, resolved, fake_paypal).json()["outcomes"] == [
        "dispute resolved"]
    assert Dispute.objects.get(order=paid).status == final
    data = Event.objects.get(event_type="dispute.resolved").data
    assert data["status"] == final and data["payment_gateway"] == "paypal"


def test_a_dispute_about_another_stores_payment_changes_nothing(client, fake_paypal, store,
                                                                paid):
    other = make_shop()
    connect_paypal(other, fake_paypal, client_id="AotherStoreClientId000000000000000000002",
                   secret="EotherStoreSecret00000000000000000000000002")
    (created,) = fake_paypal.dispute(paid.gateway_payment_id)
    response = post_paypal(client, other, created, fake_paypal)
    assert response.json()["outcomes"] == ["ignored: nothing of this store's"]
    assert not Dispute.objects.exists()
