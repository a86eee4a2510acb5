"""Idempotency keys as Stripe keeps them, in the sandbox and through the Stripe gateway."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopkeep.payments.gateways.base import GatewayError, RefundResult
from shopkeep.payments.gateways.sandbox import SandboxGateway
from shopkeep.payments.gateways.stripe import StripeGateway
from shopkeep.payments.models import SandboxCharge, SandboxIdempotentRequest, SandboxRefund
from tests.commerce import make_product, make_shop, paid_order, place_order
from tests.payments.conftest import connect, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(django_capture_on_commit_callbacks):
    store = make_shop()
    return paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)


def _refund(order, key="shopkeep-refund-1", **changes):
    args = {"payment_id": order.gateway_payment_id, "amount_minor": 500, "currency": "USD",
            "reason": "", "idempotency_key": key, **changes}
    return SandboxGateway().refund(**args)


def test_the_same_key_and_parameters_replay_the_first_refund(order):
    first = _refund(order)
    assert _refund(order) == first == RefundResult(refund_id=first.refund_id,
                                                   status="succeeded")
    assert SandboxRefund.objects.count() == 1
    assert SandboxCharge.objects.get().refunded_minor == 500


@pytest.mark.parametrize("changes", [{"amount_minor": 600}, {"currency": "EUR"},
                                     {"payment_id": "pi_test_other"}])
def test_the_same_key_with_other_parameters_is_an_error_and_refunds_nothing(order, changes):
    _refund(order)
    with pytest.raises(GatewayError) as exc:
        _refund(order, **changes)
    assert exc.value.code == "idempotency_error"
    assert "same parameters" in exc.value.message
    assert SandboxRefund.objects.count() == 1
    assert SandboxCharge.objects.get().refunded_minor == 500


def test_a_refusal_is_replayed_too_even_once_it_would_succeed(order):
    SandboxCharge.objects.update(refunded_minor=2999)
    with pytest.raises(GatewayError) as exc:
        _refund(order)
    assert exc.value.code == "amount_too_large"
    SandboxCharge.objects.update(refunded_minor=0)
    with pytest.raises(GatewayError) as again:
        _refund(order)
    assert again.value.code == "amount_too_large"  # the saved answer, as Stripe does
    assert not SandboxRefund.objects.exists()


def test_keys_are_forgotten_after_a_day_but_the_refund_is_still_found(order):
    first = _refund(order)
    SandboxIdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    found = SandboxGateway().refund_lookup(payment_id=order.gateway_payment_id,
                                           idempotency_key="shopkeep-refund-1")
    assert found == first
    second = _refund(order)  # a new request now, as at Stripe: why lookups come first
    assert second.refund_id != first.refund_id
    assert SandboxCharge.objects.get().refunded_minor == 1000


def test_lookup_finds_nothing_for_an_unused_key_or_another_payment(order):
    _refund(order)
    sandbox = SandboxGateway()
    assert sandbox.refund_lookup(payment_id=order.gateway_payment_id,
                                 idempotency_key="shopkeep-refund-2") is None
    assert sandbox.refund_lookup(payment_id="pi_test_other",
                                 idempotency_key="shopkeep-refund-1") is None


@pytest.fixture
def stripe_paid(client, fake_stripe):
    store = make_shop()
    connect(store, fake_stripe)
    order = place_order(store, make_product(store, price="29.99"))
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    post_event(client, store, completed)
    order.refresh_from_db()
    return order


def test_stripe_refunds_pass_the_key_and_a_replay_refunds_once(fake_stripe, stripe_paid):
    gateway = StripeGateway.for_store(stripe_paid.store)
    args = {"payment_id": stripe_paid.gateway_payment_id, "amount_minor": 700,
            "currency": "USD", "reason": "r", "idempotency_key": "shopkeep-refund-9"}
    first = gateway.refund(**args)
    assert gateway.refund(**args) == first
    posts = [r for r in fake_stripe.requests if r["path"] == "/v1/refunds"
             and r["method"] == "POST"]
    assert [r["idempotency_key"] for r in posts] == ["shopkeep-refund-9"] * 2
    assert fake_stripe.charge_of(stripe_paid.gateway_payment_id)["amount_refunded"] == 700
    with pytest.raises(GatewayError) as exc:
        gateway.refund(**{**args, "amount_minor": 800})
    assert exc.value.code == "idempotency_error"
    assert fake_stripe.charge_of(stripe_paid.gateway_payment_id)["amount_refunded"] == 700
    found = gateway.refund_lookup(payment_id=stripe_paid.gateway_payment_id,
                                  idempotency_key="shopkeep-refund-9")
    assert found == first
    assert gateway.refund_lookup(payment_id=stripe_paid.gateway_payment_id,
                                 idempotency_key="shopkeep-refund-10") is None
