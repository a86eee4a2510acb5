"""Sales and revenue per creator code over a period (paid orders, net of refunds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum

from shopkeep.core.money import quantize
from shopkeep.orders.models import Order
from shopkeep.promotions.models import CreatorCode
from shopkeep.stores.models import Store


@dataclass
class CreatorLine:
    code: str
    name: str
    orders: int
    revenue: Decimal  # totals paid, less refunds
    share_percent: Decimal
    share: Decimal


def creator_report(*, store: Store, since: datetime | None = None,
                   until: datetime | None = None) -> list[CreatorLine]:
    orders = Order.objects.filter(store=store, paid_at__isnull=False).exclude(creator_code="")
    if since:
        orders = orders.filter(paid_at__gte=since)
    if until:
        orders = orders.filter(paid_at__lt=until)
    rows = (orders.values("creator_code")
            .annotate(n=Count("id"), total=Sum("total"), refunded=Sum("refunded_amount")))
    creators = {c.code: c for c in CreatorCode.objects.filter(store=store)}
    lines = []
    for row in rows:
        creator = creators.get(row["creator_code"])
        revenue = (row["total"] or Decimal("0")) - (row["refunded"] or Decimal("0"))
        percent = creator.share_percent if creator else Decimal("0")
        lines.append(CreatorLine(
            code=row["creator_code"], name=creator.name if creator else "(deleted)",
            orders=row["n"], revenue=quantize(revenue, store.currency), share_percent=percent,
            share=quantize(revenue * percent / Decimal("100"), store.currency)))
    for code, creator in creators.items():
        if code not in {line.code for line in lines}:
            lines.append(CreatorLine(code=code, name=creator.name, orders=0,
                                     revenue=quantize(Decimal("0"), store.currency),
                                     share_percent=creator.share_percent,
                                     share=quantize(Decimal("0"), store.currency)))
    return sorted(lines, key=lambda line: (-line.revenue, line.code))
