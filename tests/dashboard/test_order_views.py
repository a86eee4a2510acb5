"""Dashboard orders, refunds, disputes, subscriptions and their test-mode simulations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, Refund
from shopkeep.orders.refunds import refund_execute
from shopkeep.stores.models import Role
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="shop")


@pytest.fixture
def order(store, django_capture_on_commit_callbacks):
    return paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks,
                      billing_address={"line1": "1 Main St", "city": "Springfield",
                                       "country": "US"})


@pytest.fixture
def subscription(store, django_capture_on_commit_callbacks):
    product = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, product, capture=django_capture_on_commit_callbacks,
               email="sub@example.com")
    return Subscription.objects.get(store=store)


@pytest.fixture
def owner_client(client, store):
    client.force_login(owner_of(store))
    return client


def test_orders_list_filters_by_status_and_search(owner_client, order, store):
    url = reverse("dashboard:orders", args=["shop"])
    assert order.order_number.encode() in owner_client.get(url).content
    assert order.order_number.encode() in owner_client.get(
        url, {"q": order.order_number}).content
    assert order.order_number.encode() not in owner_client.get(
        url, {"status": "refunded"}).content
    assert order.order_number.encode() not in owner_client.get(url, {"mode": "live"}).content


def test_order_detail_shows_items_payment_and_timeline(owner_client, order):
    page = owner_client.get(reverse("dashboard:order_detail", args=["shop", order.pk]))
    assert page.status_code == 200
    for text in (b"VIP Rank", order.gateway_payment_id.encode(), b"event order.received",
                 b"order.paid", b"Springfield"):
        assert text in page.content, text


def test_owner_refunds_part_of_an_order_and_the_worker_settles_it(owner_client, order, store):
    response = owner_client.post(reverse("dashboard:order_detail", args=["shop", order.pk]),
                                 {"amount": "10.00", "reason": "Asked nicely"})
    assert response.status_code == 302
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.PENDING
    assert not Event.objects.filter(store=store, event_type="order.refunded").exists()
    refund_execute(refund_id=refund.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert order.refunded_amount == Decimal("10.00")
    event = Event.objects.get(store=store, event_type="order.refunded")
    assert event.data["refund_amount"] == "10.00" and event.data["reason"] == "Asked nicely"


def test_a_refund_over_the_remaining_amount_shows_an_error_and_writes_nothing(owner_client,
                                                                             order):
    response = owner_client.post(reverse("dashboard:order_detail", args=["shop", order.pk]),
                                 {"amount": "30.00", "reason": ""})
    assert response.status_code == 200
    assert b"At most 29.99" in response.content
    assert not Refund.objects.exists()


def test_support_member_sees_orders_but_cannot_refund_or_simulate(client, store, order,
                                                                  subscription):
    client.force_login(add_member(store, Role.SUPPORT).user)
    detail = reverse("dashboard:order_detail", args=["shop", order.pk])
    page = client.get(detail)
    assert page.status_code == 200 and b">Refund</button>" not in page.content
    assert client.post(detail, {"amount": "1.00"}).status_code == 403
    assert client.post(reverse("dashboard:order_simulate",
                               args=["shop", order.pk, "dispute"])).status_code == 403
    assert client.post(reverse("dashboard:subscription_cancel",
                               args=["shop", subscription.pk])).status_code == 403
    assert not Refund.objects.exists() and not Dispute.objects.exists()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE


def test_simulated_dispute_opens_and_closes_through_the_sandbox(
        owner_client, order, store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("dashboard:order_simulate", args=["shop", order.pk,
                                                                    "dispute"]))
    dispute = Dispute.objects.get(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.DISPUTED
    page = owner_client.get(reverse("dashboard:disputes", args=["shop"]))
    assert dispute.gateway_dispute_id.encode() in page.content and b"29.99" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("dashboard:order_simulate", args=["shop", order.pk, "won"]))
    dispute.refresh_from_db()
    order.refresh_from_db()
    assert dispute.status == "won" and order.status == Order.Status.PROCESSING
    assert Event.objects.filter(store=store, event_type="dispute.resolved").count() == 1


def test_simulations_are_refused_for_a_live_store(owner_client, order, store):
    store.test_mode = False
    store.save()
    owner_client.post(reverse("dashboard:order_simulate", args=["shop", order.pk, "dispute"]))
    assert not Dispute.objects.exists()


def test_cancel_at_period_end_keeps_access_until_the_period_ends(owner_client, subscription):
    owner_client.post(reverse("dashboard:subscription_cancel", args=["shop", subscription.pk]),
                      {"when": "period_end"})
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    assert subscription.ends_at == subscription.current_period_end
    assert subscription.ended_at is None


def test_simulated_renewal_and_failure_reach_the_subscription(
        owner_client, subscription, store, django_capture_on_commit_callbacks):
    end = subscription.current_period_end
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("dashboard:subscription_simulate",
                                  args=["shop", subscription.pk, "renewal"]))
    subscription.refresh_from_db()
    assert subscription.current_period_end > end
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("dashboard:subscription_simulate",
                                  args=["shop", subscription.pk, "renewal_failure"]))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAST_DUE
    assert subscription.attempt_count == 1 and subscription.next_retry_at is not None
    page = owner_client.get(reverse("dashboard:subscription_detail",
                                    args=["shop", subscription.pk]))
    assert b"card_declined" in page.content
    assert b"VIP Monthly" in owner_client.get(
        reverse("dashboard:subscriptions", args=["shop"])).content


ROUTES = [
    ("orders", "get", lambda o, s: []), ("order_detail", "post", lambda o, s: [o.pk]),
    ("order_simulate", "post", lambda o, s: [o.pk, "dispute"]), ("disputes", "get", None),
    ("subscriptions", "get", None), ("subscription_detail", "get", lambda o, s: [s.pk]),
    ("subscription_cancel", "post", lambda o, s: [s.pk]),
    ("subscription_simulate", "post", lambda o, s: [s.pk, "renewal"]),
]


@pytest.mark.parametrize("name,method,args", ROUTES)
def test_an_outsider_store_owner_gets_404_and_changes_nothing(
        client, order, subscription, name, method, args, django_capture_on_commit_callbacks):
    extra = args(order, subscription) if args else []
    client.force_login(owner_of(make_store(slug="other")))
    with django_capture_on_commit_callbacks(execute=True):
        for slug in ("shop", "other"):
            if slug == "other" and not extra:
                continue
            response = getattr(client, method)(reverse(f"dashboard:{name}",
                                                       args=[slug, *extra]),
                                               {"amount": "1.00", "when": "now"})
            assert response.status_code == 404
    assert not Refund.objects.exists() and not Dispute.objects.exists()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
