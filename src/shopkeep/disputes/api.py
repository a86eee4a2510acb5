"""Store API: disputes (read only; they arrive from the gateway)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from shopkeep.core.money import from_minor, money_str
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.disputes.models import Dispute
from shopkeep.stores.api_auth import scope

router = Router(tags=["disputes"])


class DisputeOut(Schema):
    id: int
    dispute_id: str
    order_id: int
    amount: int  # minor units, as seed 002's dispute events
    amount_decimal: str
    currency: str
    reason: str
    reason_description: str
    status: str
    payment_gateway: str
    charge_id: str
    evidence_due_by: datetime | None
    net_amount_impact: int
    created_at: datetime
    resolved_at: datetime | None

    @staticmethod
    def resolve_dispute_id(obj: Dispute) -> str:
        return obj.gateway_dispute_id

    @staticmethod
    def resolve_amount(obj: Dispute) -> int:
        return obj.amount_minor

    @staticmethod
    def resolve_amount_decimal(obj: Dispute) -> str:
        return money_str(from_minor(obj.amount_minor, obj.currency), obj.currency)


@router.get("/disputes", response=list[DisputeOut], auth=scope("orders:read"))
@paginate(PagePagination)
def dispute_list(request: HttpRequest, status: str = "", order_id: int | None = None):
    qs = Dispute.objects.filter(store=request.store)
    if status:
        qs = qs.filter(status=status[:24])
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    return qs


@router.get("/disputes/{dispute_id}", response=DisputeOut, auth=scope("orders:read"))
def dispute_detail(request: HttpRequest, dispute_id: int):
    return get_for_store(Dispute, request.store, pk=dispute_id)
