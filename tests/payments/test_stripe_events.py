"""Mapping Stripe events to notices, for the current and the pre-2025 payload shapes."""

from __future__ import annotations

from shopkeep.payments.gateways.stripe_events import notices_for


def _event(kind: str, obj: dict) -> dict:
    return {"id": "evt_1", "type": kind, "created": 1_700_000_000, "livemode": False,
            "data": {"object": obj}}


def test_an_old_style_renewal_invoice_maps_to_a_renewal():
    invoice = {"id": "in_1", "object": "invoice", "billing_reason": "subscription_cycle",
               "subscription": "sub_1", "customer": "cus_1", "currency": "eur",
               "amount_paid": 999, "subscription_details": {"metadata": {
                   "shopkeep_order": "ORD-1"}},
               "lines": {"data": [{"period": {"start": 1_700_000_000, "end": 1_702_592_000},
                                   "price": {"id": "price_1"}}]}}
    (notice,) = notices_for(_event("invoice.paid", invoice))
    assert notice.kind == "subscription.renewed" and notice.subscription_id == "sub_1"
    assert notice.reference == "ORD-1" and notice.plan_id == "price_1"
    assert notice.amount_minor == 999 and notice.currency == "EUR"
    assert int(notice.period_end.timestamp()) == 1_702_592_000


def test_an_old_style_subscription_update_carries_its_period():
    sub = {"id": "sub_1", "object": "subscription", "status": "active",
           "cancel_at_period_end": True, "current_period_start": 1_700_000_000,
           "current_period_end": 1_702_592_000, "metadata": {"shopkeep_order": "ORD-1"}}
    (notice,) = notices_for(_event("customer.subscription.updated", sub))
    assert notice.kind == "subscription.updated" and notice.cancel_at_period_end
    assert int(notice.period_start.timestamp()) == 1_700_000_000


def test_proration_and_foreign_invoices_change_nothing():
    proration = {"id": "in_2", "billing_reason": "subscription_update",
                 "parent": {"subscription_details": {"subscription": "sub_1"}},
                 "lines": {"data": []}}
    assert notices_for(_event("invoice.paid", proration)) == []
    one_off = {"id": "in_3", "billing_reason": "manual", "lines": {"data": []}}
    assert notices_for(_event("invoice.paid", one_off)) == []


def test_a_delayed_payment_session_waits_for_its_intent():
    session = {"id": "cs_1", "mode": "payment", "payment_status": "unpaid",
               "metadata": {"shopkeep_order": "ORD-1"}}
    assert notices_for(_event("checkout.session.completed", session)) == []


def test_an_unknown_type_is_none():
    assert notices_for(_event("customer.created", {"id": "cus_1"})) is None
