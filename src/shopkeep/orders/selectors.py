"""Reads for orders: filtered lists for the dashboard and the API."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from shopkeep.orders.models import Order
from shopkeep.stores.models import Store


def orders(*, store: Store, status: str = "", payment_status: str = "", search: str = "",
           test: bool | None = None, customer_id: int | None = None, email: str = "",
           order_number: str = "", created_after: datetime | None = None,
           created_before: datetime | None = None) -> QuerySet[Order]:
    """``created_after`` is inclusive and ``created_before`` exclusive, so adjacent windows
    never list an order twice."""
    qs = Order.objects.filter(store=store).select_related("customer")
    if status:
        qs = qs.filter(status=status)
    if payment_status:
        qs = qs.filter(payment_status=payment_status)
    if test is not None:
        qs = qs.filter(is_test_order=test)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if email.strip():
        qs = qs.filter(customer_email__iexact=email.strip())
    if order_number.strip():
        qs = qs.filter(order_number=order_number.strip())
    if created_after is not None:
        qs = qs.filter(created_at__gte=created_after)
    if created_before is not None:
        qs = qs.filter(created_at__lt=created_before)
    search = search.strip()
    if search:
        qs = qs.filter(Q(order_number__iexact=search) | Q(customer_email__icontains=search)
                       | Q(player_name__iexact=search))
    return qs
