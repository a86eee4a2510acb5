"""The order page tells the truth in every state and stops polling once nothing more will
happen by itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from shopkeep.catalog.services import ActionInput, delivery_actions_set
from shopkeep.delivery.services import server_create
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.storefront.order_view import order_state
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, paid_order, place_order
from tests.factories import owner_of
from tests.storefront.shop import url

S = Order.Status


def _order(status, *, paid=True, refunded="0", payment_status="paid"):
    return Order(status=status, payment_status=payment_status, total=Decimal("20.00"),
                 refunded_amount=Decimal(refunded), currency="USD", player_name="Steve",
                 paid_at=timezone.now() if paid else None)


def _item(status="pending"):
    return OrderItem(delivery_status=status)


@pytest.mark.parametrize(("order", "items", "key", "final", "words"), [
    (_order(S.PENDING, paid=False, payment_status="pending"), [_item()], "awaiting_payment",
     False, "waiting for the payment"),
    (_order(S.PENDING, paid=False, payment_status="failed"), [_item()], "payment_failed",
     False, "failed"),
    (_order(S.CANCELLED, paid=False, payment_status="cancelled"), [_item()], "cancelled",
     True, "not paid in time"),
    (_order(S.PROCESSING), [_item()], "delivering", False, "Delivering to Steve"),
    (_order(S.COMPLETED), [_item("delivered")], "delivered", True, "delivered to Steve"),
    (_order(S.REFUNDED, refunded="20.00"), [_item("cancelled")], "refunded", True,
     "Refunded in full: 20.00 USD"),
    (_order(S.PARTIALLY_REFUNDED, refunded="5.00"), [_item("delivered")],
     "partially_refunded", True, "Partially refunded: 5.00 USD of 20.00 USD"),
    (_order(S.DISPUTED), [_item("delivered")], "disputed", True, "disputed"),
    (_order(S.PROCESSING), [_item("failed")], "failed", True, "Contact support"),
    (_order(S.FAILED), [_item()], "failed", True, "Contact support"),
])
def test_every_state_says_what_is_true(order, items, key, final, words):
    state = order_state(order, items, [], None)
    assert (state.key, state.final) == (key, final)
    assert words in state.message or words in state.label
    if key in ("refunded", "disputed", "cancelled", "failed", "payment_failed"):
        assert "Thank you" not in state.message and "delivered to" not in state.message


def test_waiting_for_the_player_names_the_server_and_keeps_polling():
    state = order_state(_order(S.PROCESSING), [_item()], ["Survival"], None)
    assert state.key == "waiting_online" and state.poll
    assert "Join Survival as Steve" in state.message


def test_a_refund_in_progress_keeps_the_page_polling():
    refund = Refund(amount=Decimal("20.00"), status=Refund.Status.PENDING)
    state = order_state(_order(S.COMPLETED), [_item("delivered")], [], refund)
    assert state.poll and "A refund of 20.00 USD is being processed" in state.message


@pytest.mark.django_db
def test_the_order_page_polls_until_delivered_and_then_stops(client, store,
                                                             django_capture_on_commit_callbacks):
    actor = Actor.for_user(owner_of(store))
    server_create(store=store, actor=actor, name="Survival")
    kit = make_product(store, name="Kit", purchase_command=None)
    delivery_actions_set(store=store, actor=actor, product=kit, trigger="purchase",
                         actions=[ActionInput(commands=["give {player} diamond 1"],
                                              require_online=True)])
    order = paid_order(store, kit, capture=django_capture_on_commit_callbacks)
    page = client.get(url("order", order.access_key)).content.decode()
    assert 'data-state="waiting_online"' in page and "Join Survival as Steve" in page
    assert f'hx-get="{url("order_live", order.access_key)}"' in page
    live = client.get(url("order_live", order.access_key))
    assert live["Cache-Control"] == "private, no-store"
    assert live.content.decode().startswith('<section id="order-live"')
    Order.objects.filter(pk=order.pk).update(status=S.COMPLETED)
    OrderItem.objects.filter(order=order).update(delivery_status="delivered")
    live = client.get(url("order_live", order.access_key)).content.decode()
    assert 'data-state="delivered"' in live and "hx-get" not in live


@pytest.mark.django_db
def test_the_receipt_exists_only_after_payment(client, store, product,
                                               django_capture_on_commit_callbacks):
    unpaid = place_order(store, product)
    assert client.get(url("order_receipt", unpaid.access_key)).status_code == 404
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks,
                       email="b@example.com")
    receipt = client.get(url("order_receipt", order.access_key))
    assert receipt.status_code == 200 and receipt["Referrer-Policy"] == "no-referrer"
    assert order.order_number.encode() in receipt.content and b"data-print" in receipt.content


@pytest.mark.django_db
def test_another_stores_order_has_no_live_block_or_receipt(client, store, product, outsider,
                                                          django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    for name in ("order_live", "order_receipt"):
        assert client.get(url(name, order.access_key, slug="other")).status_code == 404
