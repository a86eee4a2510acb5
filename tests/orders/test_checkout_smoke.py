import pytest

from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.payments.gateways.sandbox import CARD_DECLINED
from tests.commerce import make_product, make_shop, paid_order, pay, place_order

pytestmark = pytest.mark.django_db


def test_a_sandbox_purchase_marks_the_order_paid_with_its_events(
        django_capture_on_commit_callbacks):
    store = make_shop()
    product = make_product(store)
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    assert order.status == "processing" and order.payment_status == "paid"
    assert order.is_test_order
    types = list(Event.objects.filter(store=store).values_list("event_type", flat=True)
                 .order_by("id"))
    assert types[-3:] == ["order.created", "order.received", "purchase.completed"]


def test_a_declined_card_emits_payment_failed_and_leaves_the_order_open(
        django_capture_on_commit_callbacks):
    store = make_shop()
    order = place_order(store, make_product(store))
    ok, _ = pay(order, CARD_DECLINED, capture=django_capture_on_commit_callbacks)
    assert not ok
    assert order.status == Order.Status.PENDING and order.payment_status == "failed"
    event = Event.objects.get(store=store, event_type="payment.failed")
    assert event.data["error_code"] == "card_declined"
