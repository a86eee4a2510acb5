"""Dashboard orders, refunds, disputes and the order simulations of test mode."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from django_tasks_db.models import DBTaskResult

from shopkeep.dashboard import views_orders, views_subscriptions
from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, Refund
from shopkeep.payments.flows import refund_execute
from shopkeep.stores.models import Role
from tests.commerce import make_product, make_shop, paid_order, place_order
from tests.dashboard.commerce_state import (
    ORDER_ROUTES,
    SUBSCRIPTION_ROUTES,
    commerce_state,
    outsider_gets_404_everywhere,
)
from tests.factories import add_member, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="shop")


@pytest.fixture
def product(store):
    return make_product(store)


@pytest.fixture
def order(store, product, django_capture_on_commit_callbacks):
    return paid_order(store, product, capture=django_capture_on_commit_callbacks,
                      billing_address={"line1": "1 Main St", "city": "Springfield",
                                       "country": "US"})


@pytest.fixture
def owner_client(client, store):
    client.force_login(owner_of(store))
    return client


@pytest.fixture
def support_client(store):
    client = Client()
    client.force_login(add_member(store, Role.SUPPORT).user)
    return client


def _detail(order):
    return reverse("dashboard:order_detail", args=["shop", order.pk])


def _simulate(order, what):
    return reverse("dashboard:order_simulate", args=["shop", order.pk, what])


def _numbers(response) -> set[str]:
    return {o.order_number for o in response.context["page"]}


# -- list ---------------------------------------------------------------------------------

def test_orders_list_filters_by_status_payment_status_mode_and_search(owner_client, store,
                                                                       product, order):
    unpaid = place_order(store, product, email="other@example.com")
    Order.objects.filter(pk=unpaid.pk).update(player_name="Alex")
    url = reverse("dashboard:orders", args=["shop"])
    both = {order.order_number, unpaid.order_number}
    assert _numbers(owner_client.get(url)) == both
    assert _numbers(owner_client.get(url, {"status": "processing"})) == {order.order_number}
    assert _numbers(owner_client.get(url, {"payment_status": "pending"})) == {
        unpaid.order_number}
    assert _numbers(owner_client.get(url, {"q": order.order_number})) == {order.order_number}
    assert _numbers(owner_client.get(url, {"q": "other@"})) == {unpaid.order_number}
    assert _numbers(owner_client.get(url, {"q": "alex"})) == {unpaid.order_number}
    assert _numbers(owner_client.get(url, {"mode": "test"})) == both
    live = owner_client.get(url, {"mode": "live"})
    assert _numbers(live) == set() and b"match these filters" in live.content
    # Values outside the choices are ignored, not passed to the database.
    assert _numbers(owner_client.get(url, {"status": "nope", "mode": "x"})) == both


def test_the_pager_keeps_the_filters(owner_client, store, product, order, monkeypatch):
    monkeypatch.setattr(views_orders, "PAGE_SIZE", 1)
    place_order(store, product)
    place_order(store, product)
    page = owner_client.get(reverse("dashboard:orders", args=["shop"]),
                            {"payment_status": "pending", "mode": "test"})
    assert len(page.context["page"]) == 1 and page.context["page"].paginator.count == 2
    assert b'href="?payment_status=pending&amp;mode=test&amp;page=2"' in page.content


def test_the_orders_list_shows_only_this_stores_orders(owner_client, order,
                                                        django_capture_on_commit_callbacks):
    other = make_shop(slug="other")
    foreign = paid_order(other, make_product(other), capture=django_capture_on_commit_callbacks)
    page = owner_client.get(reverse("dashboard:orders", args=["shop"]),
                            {"q": foreign.order_number})
    assert _numbers(page) == set()


# -- detail -------------------------------------------------------------------------------

def test_order_detail_shows_items_payment_customer_and_timeline(owner_client, order):
    page = owner_client.get(_detail(order))
    assert page.status_code == 200
    customer_url = reverse("dashboard:customer_detail", args=["shop", order.customer_id])
    for text in ("VIP Rank", "29.99", order.gateway_payment_id, "sandbox", "test order",
                 customer_url, "Springfield", ">Refund</button>"):
        assert text.encode() in page.content, text
    timeline = page.context["timeline"]
    assert {("order.paid", "sandbox"), ("event order.received", "")} <= {
        (row["what"], row["who"]) for row in timeline}
    assert [row["at"] for row in timeline] == sorted(row["at"] for row in timeline)


def test_order_detail_says_whether_the_buyer_chose_to_appear_on_widgets(owner_client, order):
    from shopkeep.orders.models import Order

    assert b"no: never shown" in owner_client.get(_detail(order)).content
    Order.objects.filter(pk=order.pk).update(show_in_widgets=True)
    assert b"yes: the buyer chose" in owner_client.get(_detail(order)).content


def test_a_full_refund_is_pending_until_the_worker_settles_it(owner_client, order, store):
    response = owner_client.post(_detail(order), {"amount": "", "reason": "Asked nicely"})
    assert response.status_code == 302
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.PENDING and refund.amount == Decimal("29.99")
    queued = DBTaskResult.objects.get(task_path__endswith="refund_execute_task")
    assert queued.task_path == "shopkeep.payments.flows.refund_execute_task"
    assert queued.args_kwargs["args"] == [refund.pk]
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING and order.refunded_amount == 0
    assert not Event.objects.filter(store=store, event_type="order.refunded").exists()
    page = owner_client.get(_detail(order))
    assert b"waiting for the payment gateway" in page.content
    # Everything is in flight: no second refund can be asked for.
    assert b">Refund</button>" not in page.content

    assert refund_execute(refund_id=refund.pk) == "succeeded"
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refunded_amount == Decimal("29.99")
    event = Event.objects.get(store=store, event_type="order.refunded")
    assert event.data["refund_amount"] == "29.99" and event.data["reason"] == "Asked nicely"
    assert b"refund.succeeded" in owner_client.get(_detail(order)).content


def test_a_pending_refund_lowers_what_the_form_offers(owner_client, order):
    owner_client.post(_detail(order), {"amount": "10.00"})
    page = owner_client.get(_detail(order))
    assert page.context["refundable"] == Decimal("19.99")
    assert b"At most 19.99 USD" in page.content


def test_a_refund_over_the_remaining_amount_shows_an_error_and_writes_nothing(owner_client,
                                                                             order):
    before = commerce_state()
    response = owner_client.post(_detail(order), {"amount": "30.00", "reason": ""})
    assert response.status_code == 200
    assert b"At most 29.99" in response.content
    assert commerce_state() == before


# -- simulations ----------------------------------------------------------------------------

def test_a_simulated_dispute_opens_and_closes_through_the_sandbox(
        owner_client, order, store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_simulate(order, "dispute"))
    assert response.status_code == 302
    dispute = Dispute.objects.get(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.DISPUTED
    assert dispute.status == Dispute.Status.NEEDS_RESPONSE and dispute.amount_minor == 2999
    page = owner_client.get(reverse("dashboard:disputes", args=["shop"]))
    assert dispute.gateway_dispute_id.encode() in page.content
    assert b"29.99 USD" in page.content and _detail(order).encode() in page.content
    assert b"Close dispute: won" in owner_client.get(_detail(order)).content

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(_simulate(order, "won"))
    dispute.refresh_from_db()
    order.refresh_from_db()
    assert dispute.status == Dispute.Status.WON and order.status == Order.Status.PROCESSING
    assert Event.objects.filter(store=store, event_type="dispute.resolved").count() == 1
    assert owner_client.get(reverse("dashboard:disputes", args=["shop"]),
                            {"status": "needs_response"}).context["rows"] == []


def test_a_second_dispute_is_refused_while_one_is_open(owner_client, order,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(_simulate(order, "dispute"))
    before = commerce_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_simulate(order, "dispute"), follow=True)
    assert b"already has an open dispute" in response.content
    assert commerce_state() == before


def test_simulations_are_refused_for_a_live_store(owner_client, order, store,
                                                  django_capture_on_commit_callbacks):
    store.test_mode = False
    store.save()
    assert b"Simulate a dispute" not in owner_client.get(_detail(order)).content
    before = commerce_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(_simulate(order, "dispute"), follow=True)
    assert b"Simulations are for sandbox orders" in response.content
    assert commerce_state() == before


def test_an_unknown_simulation_is_404(owner_client, order):
    assert owner_client.post(_simulate(order, "explode")).status_code == 404


def test_simulations_are_post_only(owner_client, order):
    assert owner_client.get(_simulate(order, "dispute")).status_code == 405
    assert not Dispute.objects.exists()


# -- roles and tenants ------------------------------------------------------------------------

def test_support_sees_orders_but_cannot_refund_or_simulate(support_client, order,
                                                           django_capture_on_commit_callbacks):
    page = support_client.get(_detail(order))
    assert page.status_code == 200
    assert b">Refund</button>" not in page.content and b"Simulate" not in page.content
    assert support_client.get(reverse("dashboard:disputes", args=["shop"])).status_code == 200
    before = commerce_state()
    with django_capture_on_commit_callbacks(execute=True):
        assert support_client.post(_detail(order), {"amount": "1.00"}).status_code == 403
        assert support_client.post(_simulate(order, "dispute")).status_code == 403
        assert support_client.post(_simulate(order, "lost")).status_code == 403
    assert commerce_state() == before


@pytest.mark.parametrize("route", ORDER_ROUTES, ids=lambda r: f"{r[1]} {r[0]} {r[3]}")
def test_an_outsider_store_owner_gets_404_and_changes_nothing(
        client, order, route, django_capture_on_commit_callbacks):
    outsider_gets_404_everywhere(client, route=route, obj=order,
                                 capture=django_capture_on_commit_callbacks)


def test_the_outsider_tables_cover_every_commerce_route():
    modules = {views_orders.__name__, views_subscriptions.__name__}
    names = {pattern.name for pattern in get_resolver("shopkeep.dashboard.urls").url_patterns
             if pattern.callback.__module__ in modules}
    assert names == {route[0] for route in ORDER_ROUTES + SUBSCRIPTION_ROUTES}


# -- overview -------------------------------------------------------------------------------

def test_the_overview_counts_paid_orders_and_net_revenue(owner_client, order, store, product):
    place_order(store, product)  # unpaid: not counted
    owner_client.post(_detail(order), {"amount": "9.99"})
    refund_execute(refund_id=Refund.objects.get().pk)
    page = owner_client.get(reverse("dashboard:overview", args=["shop"]))
    assert page.context["sales"] == {"count": 1, "revenue": [(Decimal("20.00"), "USD")],
                                     "test": True}
    assert b"20.00 USD" in page.content
    store.test_mode = False
    store.save()
    page = owner_client.get(reverse("dashboard:overview", args=["shop"]))
    assert page.context["sales"]["count"] == 0
