"""Drive and inspect a platform's background jobs from another process (the crash tests).

    python -m tests.e2e.jobs_ctl refunds --orders ORD-1,ORD-2 [--split]
    python -m tests.e2e.jobs_ctl enqueue-periodic
    python -m tests.e2e.jobs_ctl jobs-world
    python -m tests.e2e.jobs_ctl books
    python -m tests.e2e.jobs_ctl mail-scan | mail-books

Run with the platform's environment, like ``platform_ctl``. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")
    import django

    django.setup()


def _owner(store):
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.models import Membership, Role

    return Actor.for_user(Membership.objects.get(store=store, role=Role.OWNER).user)


def cmd_refunds(args: argparse.Namespace) -> dict:
    """Request refunds (pending, their execution queued), as the dashboard's button does."""
    from shopkeep.orders.models import Order
    from shopkeep.payments.flows import refund_request

    made = []
    for number in args.orders.split(","):
        order = Order.objects.select_related("store").get(order_number=number)
        parts = [(order.total / 2).quantize(Decimal("0.01")), None] if args.split else [None]
        for amount in parts:
            refund = refund_request(store=order.store, actor=_owner(order.store), order=order,
                                    amount=amount, reason="crash test")
            made.append(refund.pk)
    return {"refunds": made}


def cmd_jobs_world(args: argparse.Namespace) -> dict:
    """One piece of due work for every periodic task type, each with a checkable outcome:
    a stale unpaid order (expiry releases its stock), a sandbox subscription at its period
    end (the sandbox clock renews it), a cancelled subscription past its end (access ends),
    a past-due one whose retry is due, a refund pending for 10 minutes that the gateway made
    (reconciliation settles it), an expired session."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from shopkeep.catalog.models import Product
    from shopkeep.catalog.services import ActionInput, ProductInput, delivery_actions_set
    from shopkeep.catalog.services import product_create as create
    from shopkeep.orders.models import Order, Refund
    from shopkeep.orders.refunds import refund_key
    from shopkeep.payments.flows import refund_request
    from shopkeep.payments.gateways.sandbox import CARD_DECLINED, CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxSubscription
    from shopkeep.stores.models import Store
    from shopkeep.subscriptions.models import Subscription
    from tests.e2e.platform_ctl import buy_one

    store = Store.objects.get(pk=args.store)
    actor = _owner(store)
    now = timezone.now()
    stocked = create(store=store, actor=actor, data=ProductInput(
        name="Stocked", price="1.00", stock_enabled=True, stock_quantity=5))
    from shopkeep.customers.services import CustomerInput
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import order_create

    stale = order_create(store=store, lines=[Line(stocked.pk, 2)], customer=CustomerInput(
        email="stale@e2e.test", player_name="Stale", name="Stale"))
    Order.objects.filter(pk=stale.pk).update(reserved_until=now - timedelta(minutes=1))
    monthly = {}
    for name in ("renews", "ends", "retries"):
        product = create(store=store, actor=actor, data=ProductInput(
            name=f"Monthly {name}", price="3.00", type="subscription", billing_interval="month"))
        delivery_actions_set(store=store, actor=actor, product=product,
                             trigger="subscription_cancel",
                             actions=[ActionInput(commands=[f"say end {name} {{player}}"])])
        monthly[name] = buy_one(product.pk, f"Sub{name.title()}")
    sandbox = SandboxGateway()
    renews = Subscription.objects.get(order__order_number=monthly["renews"])
    period_end = now - timedelta(seconds=1)  # both sides agree the period just ended
    SandboxSubscription.objects.filter(pk=renews.gateway_subscription_id).update(
        current_period_end=period_end)
    Subscription.objects.filter(pk=renews.pk).update(current_period_end=period_end)
    ends = Subscription.objects.get(order__order_number=monthly["ends"])
    Subscription.objects.filter(pk=ends.pk).update(status=Subscription.Status.CANCELED,
                                                   ends_at=now - timedelta(seconds=1))
    SandboxSubscription.objects.filter(pk=ends.gateway_subscription_id).update(
        status="canceled")
    retries = Subscription.objects.get(order__order_number=monthly["retries"])
    sandbox.simulate_renewal(subscription_id=retries.gateway_subscription_id,
                             card_number=CARD_DECLINED)
    SandboxSubscription.objects.filter(pk=retries.gateway_subscription_id).update(
        card_number=CARD_OK)
    Subscription.objects.filter(pk=retries.pk).update(next_retry_at=now - timedelta(seconds=1))
    paid = buy_one(Product.objects.get(store=store, name="Kit").pk, "Refunded")
    order = Order.objects.get(order_number=paid)
    refund = refund_request(store=store, actor=actor, order=order, amount=None, reason="old")
    from django_tasks_db.models import DBTaskResult

    # Its own execution task is dropped: only the reconciliation can settle it now.
    DBTaskResult.objects.filter(task_path__endswith="refund_execute_task").delete()
    sandbox.refund(payment_id=order.gateway_payment_id, amount_minor=499, currency="USD",
                   reason="old", idempotency_key=refund_key(refund))
    Refund.objects.filter(pk=refund.pk).update(created_at=now - timedelta(minutes=10))
    old = SessionStore()
    old.set_expiry(-10)
    old.create()
    return {"stale": stale.order_number, "stocked": stocked.pk, "subscriptions": monthly,
            "refund": refund.pk}


def cmd_enqueue_periodic(args: argparse.Namespace) -> dict:
    from shopkeep.core.scheduler import registered_jobs

    jobs = registered_jobs()
    for job in jobs.values():
        job.task.enqueue()
    return {"enqueued": sorted(jobs)}


def cmd_scheduled(args: argparse.Namespace) -> dict:
    """How many runs of each periodic job were enqueued, and whether the scheduler claimed it."""
    from django_tasks_db.models import DBTaskResult

    from shopkeep.core.models import ScheduledJob
    from shopkeep.core.scheduler import registered_jobs

    return {name: {"claimed": ScheduledJob.objects.filter(
                       name=name, last_enqueued_at__isnull=False).exists(),
                   "enqueued": DBTaskResult.objects.filter(
                       task_path=job.task.module_path).count()}
            for name, job in registered_jobs().items()}


def cmd_books(args: argparse.Namespace) -> dict:
    """Our books and the sandbox's, side by side, and the state of every task."""
    from django_tasks_db.models import DBTaskResult

    from shopkeep.core.models import JobLease
    from shopkeep.events.models import Event
    from shopkeep.orders.models import Order
    from shopkeep.payments.models import GatewayEvent, SandboxCharge, SandboxRefund

    refunded_events: dict[str, list[str]] = defaultdict(list)
    for data in Event.objects.filter(event_type="order.refunded").values_list("data",
                                                                                flat=True):
        refunded_events[data["order_number"]].append(data["refund_amount"])
    orders = {}
    for order in Order.objects.filter(paid_at__isnull=False).prefetch_related("refunds"):
        charge = SandboxCharge.objects.filter(pk=order.gateway_payment_id).first()
        keys = Counter(SandboxRefund.objects.filter(charge=charge).values_list(
            "idempotency_key", flat=True)) if charge else Counter()
        orders[order.order_number] = {
            "status": order.status, "refunded": str(order.refunded_amount),
            "gateway_refunded_minor": charge.refunded_minor if charge else None,
            "refunds": sorted(r.status for r in order.refunds.all()),
            "refunded_events": refunded_events.get(order.order_number, []),
            "gateway_refunds_per_key": sorted(keys.values()),
            "received_events": Event.objects.filter(
                event_type="order.received", data__order_number=order.order_number).count(),
        }
    tasks = Counter(f"{path.rsplit('.', 1)[-1]}:{status}" for path, status in
                    DBTaskResult.objects.values_list("task_path", "status"))
    runs = [len(ids) for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)]
    return {"orders": orders, "tasks": dict(tasks), "leases": JobLease.objects.count(),
            "most_runs_of_one_task": max(runs, default=0),
            "notices_unprocessed": GatewayEvent.objects.filter(
                processed_at__isnull=True).count()}


def cmd_world_state(args: argparse.Namespace) -> dict:
    """The outcome of each periodic job in ``jobs-world``."""
    from django.contrib.sessions.models import Session

    from shopkeep.catalog.models import Product
    from shopkeep.delivery.models import DeliveryCommand
    from shopkeep.events.models import Event
    from shopkeep.orders.models import Order, Refund
    from shopkeep.payments.models import SandboxCharge
    from shopkeep.subscriptions.models import Renewal, Subscription

    world = json.loads(args.world)
    subs = {}
    for name, number in world["subscriptions"].items():
        sub = Subscription.objects.get(order__order_number=number)
        subs[name] = {
            "status": sub.status, "ended": sub.ended_at is not None,
            "renewals_ok": Renewal.objects.filter(subscription=sub, succeeded=True).count(),
            "gateway_charges": SandboxCharge.objects.filter(reference=number).count(),
            "cancel_commands": DeliveryCommand.objects.filter(
                order__order_number=number, type="subscription_cancel").count(),
            "renewed_events": Event.objects.filter(event_type="subscription.renewed",
                                                   data__id=sub.pk).count(),
        }
    refund = Refund.objects.select_related("order").get(pk=world["refund"])
    return {
        "stale_order": Order.objects.get(order_number=world["stale"]).status,
        "stock": Product.objects.get(pk=world["stocked"]).stock_quantity,
        "subscriptions": subs,
        "refund": refund.status,
        "refunded": str(refund.order.refunded_amount),
        "refunded_events": Event.objects.filter(
            event_type="order.refunded",
            data__order_number=refund.order.order_number).count(),
        "sessions": Session.objects.count(),
    }


def cmd_mail_scan(args: argparse.Namespace) -> dict:
    """Turn the events so far into outbox rows and queue their sending (the periodic scan)."""
    from shopkeep.notifications.services import outbox_scan

    queued = 0
    while True:
        batch = outbox_scan()
        queued += batch
        if not batch:
            return {"queued": queued}


def cmd_mail_books(args: argparse.Namespace) -> dict:
    """The outbox, row by row: status, attempts and the Message-ID each attempt carries."""
    from shopkeep.notifications.models import EmailOutbox
    from shopkeep.notifications.services import email_message_id

    rows = [{"id": row.pk, "kind": row.kind, "status": row.status, "attempts": row.attempts,
             "message_id": email_message_id(row), "error": row.error}
            for row in EmailOutbox.objects.order_by("pk")]
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jobs_ctl")
    sub = parser.add_subparsers(dest="op", required=True)
    refunds = sub.add_parser("refunds")
    refunds.add_argument("--orders", required=True)
    refunds.add_argument("--split", action="store_true", help="two refunds per order")
    refunds.set_defaults(func=cmd_refunds)
    world = sub.add_parser("jobs-world")
    world.add_argument("--store", type=int, required=True)
    world.set_defaults(func=cmd_jobs_world)
    state = sub.add_parser("world-state")
    state.add_argument("--world", required=True)
    state.set_defaults(func=cmd_world_state)
    sub.add_parser("enqueue-periodic").set_defaults(func=cmd_enqueue_periodic)
    sub.add_parser("scheduled").set_defaults(func=cmd_scheduled)
    sub.add_parser("books").set_defaults(func=cmd_books)
    sub.add_parser("mail-scan").set_defaults(func=cmd_mail_scan)
    sub.add_parser("mail-books").set_defaults(func=cmd_mail_books)
    args = parser.parse_args(argv)
    _django()
    print(json.dumps(args.func(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
