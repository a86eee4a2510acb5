"""Store API: the creator-code report (``/api/v1/creator-codes/report``)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest
from ninja import Router, Schema

from shopkeep.core.money import money_str
from shopkeep.orders.creator_report import creator_report
from shopkeep.stores.api_auth import scope

router = Router(tags=["promotions"])


class CreatorLineOut(Schema):
    code: str
    name: str
    orders: int
    revenue: str
    share_percent: str
    share: str


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.get("/creator-codes/report", response=list[CreatorLineOut],
            auth=scope("promotions:read"),
            summary="Paid orders and revenue (net of refunds) per creator code in a period")
def creator_code_report(request: HttpRequest, since: datetime | None = None,
                        until: datetime | None = None):
    currency = request.store.currency
    return [{"code": line.code, "name": line.name, "orders": line.orders,
             "revenue": money_str(line.revenue, currency),
             "share_percent": format(line.share_percent, "f"),
             "share": money_str(line.share, currency)}
            for line in creator_report(store=request.store, since=_utc(since),
                                       until=_utc(until))]
