"""Sample contexts for the dashboard's e-mail previews: the store's latest order when it has
one, otherwise made-up but realistic figures in the store's currency."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from shopkeep.core.absolute import absolute_url
from shopkeep.notifications.kinds import KINDS, order_context
from shopkeep.orders.models import Order
from shopkeep.stores.models import Store


def _sample_order(store: Store) -> dict[str, Any]:
    c = store.currency
    return {
        "order_number": "ORD-PREVIEW01", "order_url": absolute_url(
            reverse("storefront:home", args=[store.slug])),
        "customer_name": "Alex Example", "customer_email": "alex@example.com",
        "player_name": "Alex_01", "currency": c,
        "items": [{"name": "VIP Rank", "quantity": 1, "unit_price": "16.00", "total": "16.00",
                   "list_price": "20.00", "sale_name": "Summer sale",
                   "delivery_status": "pending"},
                  {"name": "Diamond Key", "quantity": 2, "unit_price": "2.00", "total": "4.00",
                   "list_price": "", "sale_name": "", "delivery_status": "pending"}],
        "subtotal": "20.00", "discount": "2.00", "coupon_code": "SAVE10", "tax": "",
        "tax_inclusive": False, "tax_rate": "", "reverse_charge": False, "vat_number": "",
        "total": "18.00", "gift_card_amount": "5.00", "gift_card_last4": "WXYZ",
        "amount_charged": "13.00", "is_test": True, "waits_online": True,
        "is_subscription": False,
        "dashboard_url": absolute_url(reverse("dashboard:orders", args=[store.slug])),
        "refund_amount": "5.00", "refund_reason": "Customer request",
        "refund_to_gift_card": "5.00", "fully_refunded": False, "_currency": c,
    }


def _sample_subscription(store: Store) -> dict[str, Any]:
    return {"customer_email": "alex@example.com", "customer_name": "Alex Example",
            "product_name": "VIP Monthly", "amount": "9.99", "currency": store.currency,
            "interval": "month", "period_end": "2026-02-01", "next_billing_date": "2026-02-01",
            "next_retry_at": "2026-01-04", "error_message": "Your card was declined.",
            "ends_at": "2026-02-01",
            "account_url": absolute_url(reverse("storefront:account", args=[store.slug]))}


def preview_context(store: Store, kind_name: str) -> dict[str, Any]:
    kind = KINDS[kind_name]
    if kind.event_type.startswith("subscription."):
        return _sample_subscription(store)
    if kind.name == "delivery_failed":
        return {"order_number": "ORD-PREVIEW01", "items": [{"name": "VIP Rank",
                                                            "quantity": 1}],
                "error": "Connection refused: unable to reach game server",
                "error_code": "RCON_CONNECTION_FAILED", "attempt_count": 3,
                "server_name": "Survival",
                "dashboard_url": absolute_url(reverse("dashboard:orders", args=[store.slug]))}
    if kind.name == "dispute_opened":
        return {"order_number": "ORD-PREVIEW01", "amount": "18.00",
                "currency": store.currency, "reason": "fraudulent",
                "reason_description": "The cardholder says they did not make this purchase",
                "evidence_due_by": "2026-01-15",
                "dashboard_url": absolute_url(reverse("dashboard:disputes",
                                                      args=[store.slug]))}
    if kind.name == "renewal_reminder":
        return _sample_subscription(store) | {"renews_on": "2026-02-01",
                                              "time_zone": store.time_zone, "is_trial": False}
    if kind.name == "daily_summary":
        return {"day": "2026-01-31", "time_zone": store.time_zone, "store_name": store.name,
                "orders": 12, "revenue": "184.50", "renewals": 3, "renewal_revenue": "29.97",
                "refunded": "9.99", "net": "204.48", "new_customers": 7,
                "delivery_failures": 1, "disputes": 0, "currency": store.currency,
                "top_products": [{"name": "VIP Rank", "quantity": 6},
                                 {"name": "Diamond Key", "quantity": 4}],
                "dashboard_url": absolute_url(reverse("dashboard:overview",
                                                      args=[store.slug]))}
    if kind.name == "abandoned_basket":
        home = absolute_url(reverse("storefront:home", args=[store.slug]))
        return _sample_order(store) | {"store_name": store.name, "restore_url": home,
                                       "unsubscribe_url": home}
    if kind.name == "gift_card":
        return {"order_number": "ORD-PREVIEW01", "customer_name": "Alex Example",
                "customer_email": "alex@example.com", "currency": store.currency,
                "order_url": absolute_url(reverse("storefront:home", args=[store.slug])),
                "cards": [{"code": "ABCD-EFGH-JKMN-PQRS", "amount": "25.00",
                           "note": "Gift card 25"}],
                "balance_url": absolute_url(reverse("storefront:gift_card",
                                                    args=[store.slug]))}
    latest = (Order.objects.filter(store=store, paid_at__isnull=False)
              .prefetch_related("items").select_related("gift_card").first())
    context = _sample_order(store)
    if latest is not None:
        context |= order_context(store, latest)
    return context
