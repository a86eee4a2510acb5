"""Tiered upgrades: the ladder, the price of an upgrade, and what runs in game."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shopkeep.core.errors import ServiceError
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.orders.models import OrderItem
from shopkeep.orders.services import Line, order_cancel_unpaid
from shopkeep.payments.flows import order_create
from shopkeep.payments.models import SandboxSubscription
from shopkeep.payments.upgrades import held_tiers, prorated_credit, upgrade_offers
from shopkeep.promotions.tiers import TierGroupInput, tier_group_create
from shopkeep.subscriptions.models import Subscription
from tests.commerce import buyer, make_product, make_shop, paid_order, pay, place_order
from tests.delivery.conftest import Agent, add_server, set_commands
from tests.promotions.helpers import make_coupon, make_sale, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    store = make_shop()
    _, server_secret, store_secret = add_server(store)
    store.secrets = (store_secret, server_secret)
    return store


@pytest.fixture
def agent(client, store):
    return Agent(client, *store.secrets)


def _run_all(agent) -> None:
    """The game server runs what it was sent."""
    for command in agent.pending().json()["commands"]:
        assert agent.confirm(command["id"]).status_code == 200


def _ladder(store, *specs, type="digital", **fields):
    products = []
    for name, price in specs:
        product = make_product(store, name=name, price=price,
                               purchase_command=f"lp user {{player}} group add {name.lower()}",
                               type=type, **fields)
        set_commands(product, "refund" if type == "digital" else "subscription_cancel",
                     f"lp user {{player}} group remove {name.lower()}")
        products.append(product)
    tier_group_create(store=store, actor=owner(store), data=TierGroupInput(
        name="Ranks", product_ids=[p.pk for p in products]))
    return products


@pytest.fixture
def ranks(store):
    return _ladder(store, ("VIP", "10.00"), ("MVP", "25.00"), ("Legend", "40.00"))


def _customer(order):
    return order.customer


def test_holding_a_lower_tier_makes_the_higher_one_cost_the_difference(
        store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, legend = ranks
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    offers = upgrade_offers(store=store, customer=_customer(held), products=[vip, mvp, legend])
    assert vip.pk not in offers
    assert offers[mvp.pk].price == Decimal("15.00") and offers[mvp.pk].from_name == "VIP"
    assert offers[legend.pk].price == Decimal("30.00")

    order = place_order(store, mvp)
    item = order.items.get()
    assert (order.subtotal, order.total, item.unit_price) == (Decimal("15.00"),) * 3
    assert item.list_price == Decimal("25.00") and item.upgrade_credit == Decimal("10.00")
    assert item.upgrade_from_id == held.items.get().pk
    assert OrderItem.objects.get(pk=item.upgrade_from_id).upgraded_by == order.order_number


def test_paying_the_upgrade_queues_the_removal_before_the_new_rank(
        store, agent, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    _run_all(agent)
    order = paid_order(store, mvp, capture=django_capture_on_commit_callbacks)
    removal = DeliveryCommand.objects.get(order=held, type="refund")
    grant = DeliveryCommand.objects.get(order=order, type="purchase")
    assert removal.command.endswith("group remove vip") and removal.player_name == "Steve"
    assert grant.command.endswith("group add mvp")
    assert removal.pk < grant.pk  # the agent runs one player's commands in queue order
    sent = [c["command"] for c in agent.pending().json()["commands"]]
    assert sent == ["lp user {player} group remove vip", "lp user {player} group add mvp"]
    held.refresh_from_db()
    assert held.status == "completed"  # the VIP order itself stays as it was


def test_an_upgrade_before_the_lower_tier_ran_cancels_it_instead_of_removing_it(
        store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    paid_order(store, mvp, capture=django_capture_on_commit_callbacks)
    assert DeliveryCommand.objects.get(order=held, type="purchase").status == "cancelled"
    assert not DeliveryCommand.objects.filter(order=held, type="refund").exists()


def test_upgrades_chain_without_paying_twice_for_a_rank(
        store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, legend = ranks
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    paid_order(store, mvp, capture=django_capture_on_commit_callbacks)  # paid 15.00
    order = place_order(store, legend)
    assert order.total == Decimal("15.00")  # 40 - (15 + 10 credit the MVP carried)
    assert order.items.get().upgrade_credit == Decimal("25.00")


def test_another_buyer_or_another_player_gets_no_upgrade_price(
        store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    other = place_order(store, mvp, email="someone@example.com")
    assert other.total == Decimal("25.00") and other.items.get().upgrade_from_id is None
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(mvp.pk, 1)],
                     customer=buyer("player@example.com", "Alex"))
    assert exc.value.code == "upgrade_player" and exc.value.field == "player_name"
    assert OrderItem.objects.filter(upgraded_by__gt="").count() == 0


def test_a_refunded_lower_tier_gives_no_credit(store, ranks,
                                               django_capture_on_commit_callbacks):
    from shopkeep.payments.flows import refund_request

    vip, mvp, _ = ranks
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        refund_request(store=store, actor=owner(store), order=held, amount=None)
    from shopkeep.payments.flows import refund_execute

    refund_execute(refund_id=held.refunds.get().pk)
    assert upgrade_offers(store=store, customer=_customer(held), products=[mvp]) == {}
    assert place_order(store, mvp).total == Decimal("25.00")


def test_an_unpaid_upgrade_given_up_frees_the_lower_tier(
        store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    first = place_order(store, mvp)
    # While that order is open the VIP is claimed: a second checkout pays the full price.
    assert place_order(store, mvp).total == Decimal("25.00")
    assert order_cancel_unpaid(order=first, reason="test")
    assert held.items.get().upgraded_by == ""
    assert place_order(store, mvp).total == Decimal("15.00")


def test_the_coupon_and_sales_apply_to_the_upgrade_price(
        store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    make_sale(store, value="20", product_ids=[mvp.pk])  # MVP 25.00 -> 20.00
    make_coupon(store, "TENOFF", value="10")
    order = place_order(store, mvp, coupon_code="tenoff")
    assert order.subtotal == Decimal("10.00")  # 20.00 sale price - 10.00 credit
    assert order.discount == Decimal("1.00") and order.total == Decimal("9.00")


def test_no_upgrade_price_when_the_credit_covers_the_higher_tier(
        store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    make_sale(store, kind="fixed", value="16.00", product_ids=[mvp.pk])  # MVP now 9.00
    order = place_order(store, mvp)
    assert order.total == Decimal("9.00") and order.items.get().upgrade_from_id is None


def test_an_upgrade_is_bought_one_at_a_time(store, ranks, django_capture_on_commit_callbacks):
    vip, mvp, _ = ranks
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(mvp.pk, 2)], customer=buyer())
    assert exc.value.code == "upgrade_quantity"


# -- subscriptions ------------------------------------------------------------------------

@pytest.fixture
def monthly(store):
    return _ladder(store, ("VIP", "10.00"), ("MVP", "30.00"), type="subscription",
                   billing_interval="month")


def test_the_unused_part_of_a_subscription_period_is_credited(
        store, monthly, django_capture_on_commit_callbacks):
    vip, _ = monthly
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    sub = Subscription.objects.get()
    half = sub.current_period_start + (sub.current_period_end - sub.current_period_start) / 2
    assert prorated_credit(sub=sub, at=half) == Decimal("5.00")
    assert prorated_credit(sub=sub, at=sub.current_period_end + timedelta(days=1)) == 0
    [held] = held_tiers(store=store, customer=sub.customer).values()
    assert held.subscription == sub and held.tier.product == vip


def test_a_subscription_upgrade_pays_the_prorated_difference_then_renews_in_full(
        store, agent, monthly, django_capture_on_commit_callbacks):
    vip, mvp = monthly
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    _run_all(agent)
    old = Subscription.objects.get()
    order = place_order(store, mvp)
    credit = order.items.get().upgrade_credit
    assert Decimal("9.90") <= credit <= Decimal("10.00")  # nearly the whole month is left
    assert order.total == Decimal("30.00") - credit
    ok, message = pay(order, capture=django_capture_on_commit_callbacks)
    assert ok, message
    old.refresh_from_db()
    assert old.status == "canceled" and old.ended_at is not None
    assert old.cancel_reason.startswith("Upgraded to MVP")
    new = Subscription.objects.exclude(pk=old.pk).get()
    assert new.amount == Decimal("30.00")  # renewals at the full price
    assert SandboxSubscription.objects.get(pk=new.gateway_subscription_id).amount_minor == 3000
    removal = DeliveryCommand.objects.get(order=old.order, type="subscription_cancel")
    grant = DeliveryCommand.objects.get(order=order, type="purchase")
    assert removal.pk < grant.pk and removal.command.endswith("group remove vip")


def test_a_trial_gives_no_credit_but_is_still_replaced(store, django_capture_on_commit_callbacks):
    vip, mvp = _ladder(store, ("VIP", "10.00"), ("MVP", "30.00"), type="subscription",
                       billing_interval="month", trial_days=7)
    paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    assert Subscription.objects.get().status == "trialing"
    order = place_order(store, mvp)
    assert order.total == Decimal("30.00") and order.items.get().upgrade_from_id is not None


# -- the ladder ---------------------------------------------------------------------------

def test_a_ladder_refuses_mixed_kinds_duplicates_and_products_of_another_group(store, ranks):
    sub = make_product(store, name="Monthly", price="5.00", type="subscription",
                       billing_interval="month")
    other = make_product(store, name="Extra", price="5.00")
    cases = [([other.pk, sub.pk], "mixed_tiers"), ([other.pk, other.pk], "duplicate_tier"),
             ([other.pk], "too_few_tiers"), ([other.pk, ranks[0].pk], "tier_taken"),
             ([other.pk, make_product(make_shop()).pk], "unknown_product")]
    for ids, code in cases:
        with pytest.raises(ServiceError) as exc:
            tier_group_create(store=store, actor=owner(store),
                              data=TierGroupInput(name="Second", product_ids=ids))
        assert exc.value.code == code


def test_nothing_is_offered_without_a_ladder_or_a_customer(
        store, django_capture_on_commit_callbacks):
    vip = make_product(store, name="VIP", price="10.00")
    mvp = make_product(store, name="MVP", price="25.00")
    held = paid_order(store, vip, capture=django_capture_on_commit_callbacks)
    assert upgrade_offers(store=store, customer=held.customer, products=[mvp]) == {}
    assert upgrade_offers(store=store, customer=None, products=[mvp]) == {}
