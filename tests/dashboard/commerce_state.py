"""Shared by the dashboard commerce tests: the route table for the outsider tests, a
subscription builder and one snapshot of every row a commerce page could change."""

from __future__ import annotations

from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from shopkeep.disputes.models import Dispute
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, Refund
from shopkeep.payments.models import SandboxCharge, SandboxSubscription
from shopkeep.stores.models import AuditLog, Store
from shopkeep.subscriptions.models import Renewal, Subscription
from tests.commerce import make_product, paid_order
from tests.factories import make_store, owner_of

# URL name -> (method, what the object ids come from). "order"/"subscription" routes take the
# object's id (and a fixed suffix); "store" routes take only the slug.
ORDER_ROUTES = [
    ("orders", "get", "store", []),
    ("order_detail", "get", "order", []),
    ("order_detail", "post", "order", []),
    ("order_simulate", "post", "order", ["dispute"]),
    ("order_simulate", "post", "order", ["won"]),
    ("disputes", "get", "store", []),
]
SUBSCRIPTION_ROUTES = [
    ("subscriptions", "get", "store", []),
    ("subscription_detail", "get", "subscription", []),
    ("subscription_cancel", "post", "subscription", []),
    ("subscription_simulate", "post", "subscription", ["renewal"]),
    ("subscription_simulate", "post", "subscription", ["renewal_failure"]),
]
# Every field a refund, dispute, cancel or simulation might touch, in a POST body at once.
HOSTILE_BODY = {"amount": "1.00", "reason": "outsider", "when": "now"}


def make_subscription(store: Store, capture) -> Subscription:
    product = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    order = paid_order(store, product, capture=capture, email="sub@example.com")
    return Subscription.objects.get(store=store, order=order)


def commerce_state() -> tuple:
    """Call it before and after a request that must change nothing, in any store."""
    return (
        sorted(Order.objects.values_list("pk", "status", "payment_status", "refunded_amount")),
        sorted(Subscription.objects.values_list("pk", "status", "cancel_at_period_end",
                                                "current_period_end", "ends_at", "ended_at",
                                                "attempt_count")),
        sorted(SandboxSubscription.objects.values_list("pk", "status", "cancel_at_period_end",
                                                       "current_period_end", "card_number")),
        sorted(SandboxCharge.objects.values_list("pk", "refunded_minor")),
        Refund.objects.count(), Dispute.objects.count(), Renewal.objects.count(),
        Event.objects.count(), AuditLog.objects.count(), DBTaskResult.objects.count(),
    )


def outsider_gets_404_everywhere(client, *, route: tuple, obj, capture) -> None:
    """An outsider (owner of another store) asks for ``route`` with the victim store's slug,
    then with their own slug and the victim's object id: both answer 404, nothing changes.
    ``obj`` is the victim's order or subscription; ``capture`` is pytest-django's
    ``django_capture_on_commit_callbacks``, so a notice sent by mistake would land."""
    name, method, kind, suffix = route
    client.force_login(owner_of(make_store(slug="other")))
    before = commerce_state()
    slugs = ["shop"] if kind == "store" else ["shop", "other"]
    ids = [] if kind == "store" else [obj.pk]
    with capture(execute=True):
        for slug in slugs:
            url = reverse(f"dashboard:{name}", args=[slug, *ids, *suffix])
            response = getattr(client, method)(url, HOSTILE_BODY)
            assert response.status_code == 404, url
    assert commerce_state() == before
