"""Gift cards sold as a product: buying issues and e-mails a card; a refund voids what is
left, never what was spent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from shopkeep.core.errors import ServiceError
from shopkeep.notifications.models import EmailOutbox
from shopkeep.notifications.services import email_send, outbox_scan
from shopkeep.orders.refunds import refund_fail
from shopkeep.orders.services import Line
from shopkeep.payments.flows import order_create, refund_execute, refund_request
from shopkeep.promotions.models import GiftCard, GiftCardTransaction
from tests.commerce import buyer, make_product, make_shop, paid_order, place_order
from tests.promotions.helpers import make_coupon, make_sale, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(name="Block Party")


@pytest.fixture
def card_product(store):
    return make_product(store, name="Gift card 25", price="25.00", type="gift_card",
                        purchase_command=None)


def _ledger_sum(card) -> Decimal:
    return sum((row.amount for row in card.ledger.all()), Decimal("0"))


def _refund(store, order, capture, amount=None):
    with capture(execute=True):
        refund = refund_request(store=store, actor=owner(store), order=order, amount=amount)
    return refund


def test_buying_issues_one_card_per_unit_with_its_issue_row(
        store, card_product, django_capture_on_commit_callbacks):
    order = paid_order(store, card_product, quantity=2,
                       capture=django_capture_on_commit_callbacks)
    cards = list(GiftCard.objects.filter(source_order_number=order.order_number))
    assert len(cards) == 2 and len({c.code for c in cards}) == 2
    for card in cards:
        assert (card.balance, card.initial_balance) == (Decimal("25.00"),) * 2
        assert card.recipient_email == "player@example.com" and card.issued_by == "purchase"
        [row] = card.ledger.all()
        assert (row.kind, row.amount, row.order_number) == ("issue", Decimal("25.00"),
                                                           order.order_number)
    order.refresh_from_db()
    assert order.status == "completed"  # nothing to run in game: delivered at once


def test_an_unpaid_order_issues_no_card(store, card_product):
    place_order(store, card_product)
    assert not GiftCard.objects.exists()


def test_the_buyer_is_mailed_the_code(store, card_product, django_capture_on_commit_callbacks):
    from shopkeep.notifications.models import ScanCursor

    ScanCursor.objects.update_or_create(name="events", defaults={"last_event_id": 0})
    order = paid_order(store, card_product, capture=django_capture_on_commit_callbacks)
    card = GiftCard.objects.get()
    outbox_scan()
    row = EmailOutbox.objects.get(kind="gift_card")
    mail.outbox.clear()
    assert email_send(outbox_id=row.pk) == "sent"
    (message,) = mail.outbox
    assert message.to == ["player@example.com"]
    assert message.subject == f"Your gift card code for {order.order_number}"
    assert card.display_code in message.body and card.display_code in message.alternatives[0][0]
    assert "25.00 USD" in message.body


def test_sales_and_coupons_do_not_discount_a_gift_card(store, card_product):
    make_sale(store, value="20")  # every product
    make_coupon(store, "TENOFF", value="10")
    other = make_product(store, name="VIP", price="10.00")
    order = order_create(store=store, lines=[Line(card_product.pk, 1), Line(other.pk, 1)],
                         customer=buyer(), coupon_code="tenoff")
    lines = {i.product_name: i for i in order.items.all()}
    assert lines["Gift card 25"].unit_price == Decimal("25.00")
    assert lines["VIP"].unit_price == Decimal("8.00")
    assert order.discount == Decimal("0.80")  # 10% of the VIP line only


def test_a_gift_card_cannot_buy_a_gift_card(store, card_product):
    from tests.promotions.helpers import make_gift_card

    card = make_gift_card(store, "50.00")
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(card_product.pk, 1)], customer=buyer(),
                     gift_card_code=card.code)
    assert exc.value.code == "gift_card_for_gift_card"
    assert GiftCard.objects.get(pk=card.pk).balance == Decimal("50.00")


def test_a_refund_voids_the_unspent_balance_with_the_refund(
        store, card_product, django_capture_on_commit_callbacks):
    order = paid_order(store, card_product, capture=django_capture_on_commit_callbacks)
    card = GiftCard.objects.get()
    refund = _refund(store, order, django_capture_on_commit_callbacks)
    card.refresh_from_db()
    # Voided when the refund is asked for, so the card cannot be spent while it runs.
    assert card.balance == 0 and not card.is_active
    assert card.ledger.filter(kind="void").get().amount == Decimal("-25.00")
    assert _ledger_sum(card) == card.balance
    refund_execute(refund_id=refund.pk)
    order.refresh_from_db()
    assert order.payment_status == "refunded"


def test_what_was_spent_is_not_refundable(store, card_product,
                                          django_capture_on_commit_callbacks):
    order = paid_order(store, card_product, capture=django_capture_on_commit_callbacks)
    card = GiftCard.objects.get()
    rank = make_product(store, name="VIP", price="10.00")
    order_create(store=store, lines=[Line(rank.pk, 1)], customer=buyer("friend@example.com"),
                 gift_card_code=card.code)
    with pytest.raises(ServiceError) as exc:
        _refund(store, order, django_capture_on_commit_callbacks, amount="25.00")
    assert exc.value.code == "amount_too_large" and "15.00" in exc.value.message
    assert GiftCard.objects.get(pk=card.pk).balance == Decimal("15.00")
    _refund(store, order, django_capture_on_commit_callbacks)  # the 15.00 left
    card.refresh_from_db()
    assert card.balance == 0 and _ledger_sum(card) == 0


def test_a_failed_refund_gives_the_voided_balance_back(
        store, card_product, django_capture_on_commit_callbacks):
    order = paid_order(store, card_product, capture=django_capture_on_commit_callbacks)
    refund = _refund(store, order, django_capture_on_commit_callbacks)
    assert refund_fail(refund_id=refund.pk, error="card_declined: test")
    card = GiftCard.objects.get()
    assert card.balance == Decimal("25.00") and card.is_active
    assert _ledger_sum(card) == card.balance
    assert GiftCardTransaction.objects.filter(card=card, kind="credit").count() == 1


def test_two_partial_refunds_void_in_turn(store, card_product,
                                          django_capture_on_commit_callbacks):
    order = paid_order(store, card_product, capture=django_capture_on_commit_callbacks)
    refund_execute(refund_id=_refund(store, order, django_capture_on_commit_callbacks,
                                     amount="10.00").pk)
    card = GiftCard.objects.get()
    assert card.balance == Decimal("15.00") and card.is_active
    order.refresh_from_db()
    second = _refund(store, order, django_capture_on_commit_callbacks)  # the rest: 15.00
    assert second.amount == Decimal("15.00")
    card.refresh_from_db()
    assert card.balance == 0 and _ledger_sum(card) == 0
