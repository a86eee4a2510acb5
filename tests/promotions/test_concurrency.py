"""Races on PostgreSQL: the last coupon use and the last of a gift card balance."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from shopkeep.core.errors import ServiceError
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line
from shopkeep.payments.flows import order_create
from shopkeep.promotions.models import Coupon, CouponRedemption, GiftCard
from tests.commerce import buyer, make_product, make_shop
from tests.promotions.helpers import make_coupon, make_gift_card

BUYERS = 20


def _race(run) -> tuple[list[Order], list[str], list[BaseException]]:
    barrier = threading.Barrier(BUYERS)
    created: list[Order] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            created.append(run(n))
        except ServiceError as exc:
            refused.append(exc.code)
        except BaseException as exc:  # surfaced below; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return created, refused, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_checkouts_race_for_the_last_three_coupon_uses():
    store = make_shop()
    product = make_product(store, price="20.00")
    coupon = make_coupon(store, "LAST3", max_uses=3)
    created, refused, errors = _race(lambda n: order_create(
        store=store, lines=[Line(product.pk, 1)],
        customer=buyer(f"b{n}@example.com", f"Buyer_{n}"), coupon_code="last3"))
    assert not errors, errors
    assert len(created) == 3
    assert sorted(set(refused)) == ["coupon_used_up"] and len(refused) == BUYERS - 3
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 3
    assert CouponRedemption.objects.count() == Order.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_buyer_racing_themselves_gets_a_once_per_customer_coupon_once():
    store = make_shop()
    product = make_product(store, price="20.00")
    make_coupon(store, "ONCEEACH", max_uses_per_customer=1)
    buyer_input = buyer("same@example.com", "Same")
    buyer_input_fn = lambda n: order_create(  # noqa: E731
        store=store, lines=[Line(product.pk, 1)], customer=buyer_input,
        coupon_code="ONCEEACH")
    created, refused, errors = _race(buyer_input_fn)
    assert not errors, errors
    assert len(created) == 1
    assert set(refused) == {"coupon_customer_limit"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_gift_card_balance_never_goes_negative_under_concurrent_orders():
    store = make_shop()
    product = make_product(store, price="20.00")
    card = make_gift_card(store, "50.00")  # two full orders and half of a third
    created, refused, errors = _race(lambda n: order_create(
        store=store, lines=[Line(product.pk, 1)],
        customer=buyer(f"b{n}@example.com", f"Buyer_{n}"), gift_card_code=card.code))
    assert not errors, errors
    card = GiftCard.objects.get(pk=card.pk)
    assert card.balance == Decimal("0.00")
    taken = sum((o.gift_card_amount for o in created), Decimal("0"))
    assert taken == Decimal("50.00")
    ledger = sum((row.amount for row in card.ledger.all()), Decimal("0"))
    assert ledger == card.balance
    # Every refusal is the card running dry, never a crash or a half-written order.
    assert set(refused) <= {"gift_card_insufficient", "gift_card_empty"}
    assert Order.objects.count() == len(created)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_checkouts_race_to_upgrade_from_one_rank(django_capture_on_commit_callbacks):
    """One VIP, twenty upgrade checkouts at once: exactly one gets the credit; the others
    are refused in their own transaction (or, having seen the claim, pay the full price)."""
    from shopkeep.orders.models import OrderItem
    from shopkeep.promotions.tiers import TierGroupInput, tier_group_create
    from tests.commerce import paid_order
    from tests.promotions.helpers import owner

    store = make_shop()
    vip = make_product(store, name="VIP", price="10.00")
    mvp = make_product(store, name="MVP", price="25.00")
    tier_group_create(store=store, actor=owner(store),
                      data=TierGroupInput(name="Ranks", product_ids=[vip.pk, mvp.pk]))
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    created, refused, errors = _race(lambda n: order_create(
        store=store, lines=[Line(mvp.pk, 1)], customer=buyer()))
    assert not errors, errors
    upgraded = [o for o in created if o.items.get().upgrade_from_id is not None]
    assert len(upgraded) == 1 and upgraded[0].total == Decimal("15.00")
    assert all(o.total == Decimal("25.00") for o in created if o not in upgraded)
    assert set(refused) <= {"upgrade_taken"} and len(created) + len(refused) == BUYERS
    assert OrderItem.objects.get(pk=held.items.get().pk).upgraded_by == \
        upgraded[0].order_number
    assert OrderItem.objects.filter(upgrade_from__isnull=False).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_gift_card_product_bought_twenty_times_at_once_issues_twenty_cards():
    """Twenty buyers pay for the same gift card product at the same moment (each payment its
    own transaction, as gateway notices are): twenty distinct cards, one issue row each."""
    from shopkeep.payments.flows import order_paid
    from shopkeep.promotions.models import GiftCardTransaction

    store = make_shop()
    product = make_product(store, name="Gift card 20", price="20.00", type="gift_card",
                           purchase_command=None)
    orders = [order_create(store=store, lines=[Line(product.pk, 1)],
                           customer=buyer(f"g{n}@example.com", f"Buyer_{n}"))
              for n in range(BUYERS)]
    from django.utils import timezone

    paid, refused, errors = _race(lambda n: order_paid(
        store=store, order_number=orders[n].order_number, gateway=orders[n].payment_gateway,
        payment_id=f"pi_race_{n}", paid_at=timezone.now()))
    assert not errors and not refused, (errors, refused)
    assert len(paid) == BUYERS
    cards = list(GiftCard.objects.filter(store=store))
    assert len(cards) == BUYERS and len({c.code for c in cards}) == BUYERS
    assert {c.source_order_number for c in cards} == {o.order_number for o in orders}
    assert GiftCardTransaction.objects.filter(kind="issue").count() == BUYERS
    assert all(c.balance == Decimal("20.00") for c in cards)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_spending_a_bought_card_races_its_refund_and_the_books_still_add_up(
        django_capture_on_commit_callbacks):
    """Half the threads spend the card, half ask for its purchase to be refunded. Whatever
    order they land in: the balance never goes below zero, what was spent plus what was
    voided is the card's value, and no refund pays back what was spent."""
    from shopkeep.orders.models import Refund
    from shopkeep.payments.flows import refund_request
    from tests.commerce import paid_order
    from tests.promotions.helpers import owner

    store = make_shop()
    product = make_product(store, name="Gift card 50", price="50.00", type="gift_card",
                           purchase_command=None)
    rank = make_product(store, name="VIP", price="10.00")
    bought = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    card = GiftCard.objects.get(store=store)

    def run(n):
        if n % 2:
            return order_create(store=store, lines=[Line(rank.pk, 1)],
                                customer=buyer(f"s{n}@example.com", f"Spender_{n}"),
                                gift_card_code=card.code)
        return refund_request(store=store, actor=owner(store), order=bought,
                              amount="10.00")

    done, refused, errors = _race(run)
    assert not errors, errors
    assert len(done) + len(refused) == BUYERS and done
    card.refresh_from_db()
    assert card.balance >= 0
    ledger = {k: -sum(r.amount for r in card.ledger.filter(kind=k)) for k in ("debit", "void")}
    assert sum(r.amount for r in card.ledger.all()) == card.balance
    refunded = sum(r.amount for r in Refund.objects.filter(order=bought))
    assert refunded == ledger["void"]  # every refunded euro was taken off the card first
    assert ledger["debit"] + ledger["void"] + card.balance == Decimal("50.00")
    assert set(refused) <= {"gift_card_insufficient", "gift_card_empty", "amount_too_large",
                            "gift_card_spent", "gift_card_unknown", "nothing_left"}
