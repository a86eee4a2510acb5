"""Gift cards: partial and full payment, the ledger, giving back on cancel and refund."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopkeep.core.errors import ServiceError
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line, order_cancel_unpaid
from shopkeep.payments.flows import checkout_start, order_create, refund_execute, refund_request
from shopkeep.payments.models import SandboxCharge, SandboxRefund, SandboxSession
from shopkeep.promotions.giftcards import gift_card_adjust, gift_card_find
from shopkeep.promotions.models import GiftCard, GiftCardTransaction
from tests.commerce import buyer, make_product, make_shop, pay
from tests.promotions.helpers import make_coupon, make_gift_card, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop()


@pytest.fixture
def product(store):
    return make_product(store, price="20.00")


def _order(store, product, code, quantity=1, **kwargs):
    return order_create(store=store, lines=[Line(product.pk, quantity)], customer=buyer(),
                        gift_card_code=code, **kwargs)


def _ledger_sum(card) -> Decimal:
    return sum((row.amount for row in card.ledger.all()), Decimal("0"))


def test_an_issued_card_has_a_code_a_balance_and_an_issue_row(store):
    card = make_gift_card(store, "25.00")
    assert len(card.code) == 16 and card.balance == Decimal("25.00")
    assert card.currency == "USD"
    row = card.ledger.get()
    assert (row.kind, row.amount, row.balance_after) == ("issue", Decimal("25.00"),
                                                         Decimal("25.00"))
    # Typed with dashes and in lower case, it is the same card.
    assert gift_card_find(store=store, code=card.display_code.lower()) == card


def test_a_card_pays_part_and_the_gateway_charges_the_rest(
        store, product, django_capture_on_commit_callbacks):
    card = make_gift_card(store, "15.00")
    order = _order(store, product, card.code, quantity=2)
    assert (order.total, order.gift_card_amount, order.amount_due) == (
        Decimal("40.00"), Decimal("15.00"), Decimal("25.00"))
    assert order.payment_gateway == "sandbox" and order.paid_at is None
    checkout_start(order=order, success_url="https://x.test/ok", cancel_url="https://x.test/no")
    assert SandboxSession.objects.get().amount_minor == 2500
    ok, _ = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok
    card.refresh_from_db()
    assert card.balance == Decimal("0.00") == _ledger_sum(card)
    debit = card.ledger.get(kind="debit")
    assert (debit.amount, debit.order_number) == (Decimal("-15.00"), order.order_number)


def test_a_card_that_covers_everything_pays_without_a_gateway(store, product):
    card = make_gift_card(store, "50.00")
    order = _order(store, product, card.code)
    assert order.payment_gateway == "gift_card" and order.paid_at is not None
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert checkout_start(order=order, success_url="https://x.test/ok",
                          cancel_url="https://x.test/no") == "https://x.test/ok"
    assert not SandboxSession.objects.exists()
    card.refresh_from_db()
    assert card.balance == Decimal("30.00") == _ledger_sum(card)
    from shopkeep.events.models import Event

    received = Event.objects.get(store=store, event_type="order.received").data
    assert received["payment_gateway"] == "gift_card" and received["total"] == "20.00"
    assert received["metadata"]["pricing"]["amount_charged"] == "0.00"


def test_a_coupon_and_a_card_together(store, product):
    make_coupon(store, "SAVE10")
    card = make_gift_card(store, "10.00")
    order = _order(store, product, card.code, coupon_code="save10")
    assert (order.subtotal, order.discount, order.total, order.gift_card_amount,
            order.amount_due) == (Decimal("20.00"), Decimal("2.00"), Decimal("18.00"),
                                  Decimal("10.00"), Decimal("8.00"))


def test_an_unpaid_order_that_is_given_up_credits_the_card_back(store, product):
    card = make_gift_card(store, "15.00")
    order = _order(store, product, card.code)
    assert order_cancel_unpaid(order=order, reason="expired")
    card.refresh_from_db()
    assert card.balance == Decimal("15.00") == _ledger_sum(card)
    assert list(card.ledger.values_list("kind", flat=True)) == ["credit", "debit", "issue"]
    assert not order_cancel_unpaid(order=order, reason="again")
    card.refresh_from_db()
    assert card.balance == Decimal("15.00")


def test_refunding_an_order_paid_by_card_credits_the_card_and_calls_no_gateway(
        store, product):
    card = make_gift_card(store, "50.00")
    order = _order(store, product, card.code)
    refund = refund_request(store=store, actor=owner(store), order=order, amount=None)
    assert refund.gift_card_amount == Decimal("20.00")
    assert refund_execute(refund_id=refund.pk) == "succeeded"
    card.refresh_from_db()
    order.refresh_from_db()
    assert card.balance == Decimal("50.00") == _ledger_sum(card)
    assert card.ledger.first().kind == "refund"
    assert order.status == "refunded" and order.refunded_amount == Decimal("20.00")
    assert not SandboxRefund.objects.exists()


def test_a_mixed_refund_credits_the_card_first_then_the_gateway(
        store, product, django_capture_on_commit_callbacks):
    card = make_gift_card(store, "5.00")
    order = _order(store, product, card.code)
    checkout_start(order=order, success_url="https://x.test/ok", cancel_url="https://x.test/no")
    assert pay(order, capture=django_capture_on_commit_callbacks)[0]
    first = refund_request(store=store, actor=owner(store), order=order, amount="8.00")
    assert first.gift_card_amount == Decimal("5.00")
    assert refund_execute(refund_id=first.pk) == "succeeded"
    assert SandboxRefund.objects.get().amount_minor == 300
    second = refund_request(store=store, actor=owner(store), order=order, amount=None)
    assert (second.amount, second.gift_card_amount) == (Decimal("12.00"), Decimal("0"))
    assert refund_execute(refund_id=second.pk) == "succeeded"
    card.refresh_from_db()
    assert card.balance == Decimal("5.00") == _ledger_sum(card)
    assert SandboxCharge.objects.get().refunded_minor == 1500


def test_a_card_of_another_store_is_unknown_here(store, product):
    foreign = make_gift_card(make_shop(), "50.00")
    with pytest.raises(ServiceError) as exc:
        _order(store, product, foreign.code)
    assert exc.value.code == "gift_card_unknown"
    foreign.refresh_from_db()
    assert foreign.balance == Decimal("50.00") and not Order.objects.exists()


def test_an_empty_or_disabled_card_is_refused(store, product):
    card = make_gift_card(store, "5.00")
    gift_card_adjust(store=store, actor=owner(store), card=card, amount="5.00",
                     direction="remove", note="used elsewhere")
    with pytest.raises(ServiceError) as exc:
        _order(store, product, card.code)
    assert exc.value.code == "gift_card_empty"
    assert not Order.objects.exists()


def test_adjusting_below_zero_is_refused(store):
    card = make_gift_card(store, "5.00")
    with pytest.raises(ServiceError) as exc:
        gift_card_adjust(store=store, actor=owner(store), card=card, amount="6.00",
                         direction="remove")
    assert exc.value.code == "gift_card_insufficient"
    card.refresh_from_db()
    assert card.balance == Decimal("5.00") and card.ledger.count() == 1


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1e9", "1.234", "NaN"])
def test_hostile_amounts_are_refused(store, amount):
    with pytest.raises(ServiceError):
        make_gift_card(store, amount)
    assert not GiftCard.objects.exists() and not GiftCardTransaction.objects.exists()
