"""Mails that no single event causes: made by periodic jobs in the worker, into the same outbox.

- **Upcoming renewal** (buyer): once per billing period, ``RENEWAL_LEAD`` before a live
  subscription renews (a trial: before its first charge). Not for subscriptions set to end.
- **Daily summary** (members who opt in): once per day of the store's time zone, for the day
  before, sent from local midnight on.
- **Abandoned basket** (buyer): when the store sends them and the buyer ticked the box at
  checkout, one reminder for an order left unpaid for the store's delay; never for an order
  paid meanwhile or a buyer who paid a later order, never to an address that unsubscribed
  (checked again right before sending), with a link back to the basket and an unsubscribe
  link (also as RFC 8058 one-click headers).

Each row's ``dedup_key`` names its period, day or order, so re-runs of a job add nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core import signing
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.money import money_str
from shopkeep.customers.models import Customer
from shopkeep.events.models import Event
from shopkeep.notifications.kinds import ABANDONED, KINDS, abandoned, order_context, unsubscribed
from shopkeep.notifications.models import EmailOutbox, StoreEmailSettings
from shopkeep.notifications.services import _queue, email_settings, owner_recipients
from shopkeep.orders.models import Order, Refund
from shopkeep.stores.models import Store
from shopkeep.subscriptions.models import Renewal, Subscription

RENEWAL_LEAD = {"week": timedelta(days=1), "month": timedelta(days=3),
                "year": timedelta(days=7)}
ABANDONED_WINDOW = timedelta(days=2)  # older unpaid orders are not chased
BASKET_SALT = "basket-restore"
UNSUBSCRIBE_SALT = "email-unsubscribe"


def _enqueue(row: EmailOutbox | None) -> int:
    from shopkeep.notifications.tasks import email_send_task

    if row is None:
        return 0
    email_send_task.enqueue(row.pk)
    return 1


def _local_day(store: Store, day: datetime) -> str:
    return day.astimezone(ZoneInfo(store.time_zone)).strftime("%Y-%m-%d")


# -- upcoming renewal -------------------------------------------------------------------------

def renewal_reminders_queue(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    queued = 0
    horizon = now + max(RENEWAL_LEAD.values())
    due = (Subscription.objects.filter(
        status__in=[Subscription.Status.ACTIVE, Subscription.Status.TRIALING],
        cancel_at_period_end=False, current_period_end__gt=now,
        current_period_end__lte=horizon).select_related("store", "customer", "product"))
    kind = KINDS["renewal_reminder"]
    for sub in due[:2000]:
        lead = RENEWAL_LEAD.get(sub.billing_interval, RENEWAL_LEAD["month"])
        if sub.current_period_end - now > lead or not email_settings(sub.store).buyer_receipts:
            continue
        zone = sub.store.time_zone
        context = {
            "customer_email": sub.customer.email, "customer_name": sub.customer.name,
            "product_name": sub.product.name, "currency": sub.currency,
            "amount": money_str(sub.amount, sub.currency), "interval": sub.billing_interval,
            "renews_on": _local_day(sub.store, sub.current_period_end), "time_zone": zone,
            "is_trial": sub.status == Subscription.Status.TRIALING,
            "account_url": absolute_url(reverse("storefront:account", args=[sub.store.slug]))}
        key = f"renewal:{sub.pk}:{sub.current_period_end.isoformat()}"
        queued += _enqueue(_queue(sub.store, kind, sub.customer.email, context, key, None))
    return queued


# -- daily summary ----------------------------------------------------------------------------

def summary_figures(*, store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    """What happened in the store in [start, end): the summary mail's content."""
    currency = store.currency
    paid = Order.objects.filter(store=store, paid_at__gte=start, paid_at__lt=end)
    revenue = paid.aggregate(s=Sum("total"))["s"] or Decimal("0")
    refunded = (Refund.objects.filter(store=store, status=Refund.Status.SUCCEEDED,
                                      settled_at__gte=start, settled_at__lt=end)
                .aggregate(s=Sum("amount"))["s"] or Decimal("0"))
    renewals = Renewal.objects.filter(store=store, succeeded=True, created_at__gte=start,
                                      created_at__lt=end)
    renewal_revenue = renewals.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    events = Event.objects.filter(store=store, created_at__gte=start, created_at__lt=end)
    top = (paid.values("items__product_name").annotate(n=Sum("items__quantity"))
           .order_by("-n", "items__product_name")[:3])
    return {
        "orders": paid.count(), "revenue": money_str(revenue, currency),
        "renewals": renewals.count(), "renewal_revenue": money_str(renewal_revenue, currency),
        "refunded": money_str(refunded, currency),
        "net": money_str(revenue + renewal_revenue - refunded, currency),
        "new_customers": Customer.objects.filter(store=store, created_at__gte=start,
                                                 created_at__lt=end).count(),
        "delivery_failures": events.filter(event_type="delivery.failed").count(),
        "disputes": events.filter(event_type="dispute.created").count(),
        "top_products": [{"name": row["items__product_name"], "quantity": row["n"]}
                         for row in top if row["items__product_name"]],
        "currency": currency}


def daily_summaries_queue(*, now: datetime | None = None) -> int:
    """For each store, the summary of its local yesterday, to each member who opted in."""
    now = now or timezone.now()
    kind = KINDS["daily_summary"]
    queued = 0
    stores = Store.objects.filter(memberships__email_preference__daily_summary=True).distinct()
    for store in stores:
        zone = ZoneInfo(store.time_zone)
        today = now.astimezone(zone).date()
        day = today - timedelta(days=1)
        # Local midnights, converted: a day across a DST change is 23 or 25 hours long.
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(today, time.min, tzinfo=zone)
        recipients = owner_recipients(store, "daily_summary")
        if not recipients:
            continue
        context = summary_figures(store=store, start=start, end=end) | {
            "day": day.isoformat(), "time_zone": store.time_zone, "store_name": store.name,
            "dashboard_url": absolute_url(reverse("dashboard:overview", args=[store.slug]))}
        for email in recipients:
            key = f"summary:{store.pk}:{day.isoformat()}:{email}"
            queued += _enqueue(_queue(store, kind, email, context, key, None))
    return queued


# -- abandoned basket -------------------------------------------------------------------------

def basket_token(order: Order) -> str:
    return signing.dumps({"o": order.pk, "s": order.store_id}, salt=BASKET_SALT)


def unsubscribe_token(store: Store, email: str) -> str:
    return signing.dumps({"s": store.pk, "e": email, "k": ABANDONED}, salt=UNSUBSCRIBE_SALT)


def abandoned_baskets_queue(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    kind = KINDS[ABANDONED]
    queued = 0
    for settings_row in StoreEmailSettings.objects.filter(abandoned_basket=True).select_related(
            "store"):
        store = settings_row.store
        delay = timedelta(hours=settings_row.abandoned_delay_hours)
        left = (Order.objects.filter(store=store, basket_reminder=True, paid_at__isnull=True,
                                     created_at__lte=now - delay,
                                     created_at__gt=now - delay - ABANDONED_WINDOW)
                .prefetch_related("items__upgrade_from").select_related("gift_card"))
        for order in left[:500]:
            if not abandoned(order) or unsubscribed(store.pk, order.customer_email):
                continue
            context = order_context(store, order) | {
                "order_id": order.pk, "store_name": store.name,
                "restore_url": absolute_url(reverse("storefront:basket_restore",
                                                    args=[store.slug, basket_token(order)])),
                "unsubscribe_url": absolute_url(reverse(
                    "storefront:email_unsubscribe",
                    args=[store.slug, unsubscribe_token(store, order.customer_email)]))}
            queued += _enqueue(_queue(store, kind, order.customer_email, context,
                                      f"abandoned:{order.pk}", None))
    return queued
