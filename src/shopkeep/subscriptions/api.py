"""Store API: subscriptions (list, detail, cancel)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from shopkeep.core.money import money_str
from shopkeep.core.pagination import PagePagination
from shopkeep.core.tenancy import get_for_store
from shopkeep.payments.flows import subscription_cancel
from shopkeep.stores.api_auth import scope
from shopkeep.stores.audit import Actor
from shopkeep.subscriptions.models import Subscription

router = Router(tags=["subscriptions"])


class SubscriptionOut(Schema):
    id: int
    customer_id: int
    product_id: int
    order_id: int
    status: str
    payment_gateway: str
    gateway_subscription_id: str
    quantity: int
    amount: str
    currency: str
    billing_interval: str
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    trial_ends_at: datetime | None
    attempt_count: int
    next_retry_at: datetime | None
    canceled_at: datetime | None
    cancel_reason: str
    ends_at: datetime | None
    ended_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_amount(obj: Subscription) -> str:
        return money_str(obj.amount, obj.currency)


class CancelIn(Schema):
    at_period_end: bool = True
    reason: str = Field("", max_length=300)


@router.get("/subscriptions", response=list[SubscriptionOut], auth=scope("subscriptions:read"))
@paginate(PagePagination)
def subscription_list(request: HttpRequest, status: str = "", customer_id: int | None = None):
    qs = Subscription.objects.filter(store=request.store)
    if status:
        qs = qs.filter(status=status[:16])
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut,
            auth=scope("subscriptions:read"))
def subscription_detail(request: HttpRequest, subscription_id: int):
    return get_for_store(Subscription, request.store, pk=subscription_id)


@router.post("/subscriptions/{subscription_id}/cancel", response=SubscriptionOut,
             auth=scope("subscriptions:write"))
def subscription_cancel_api(request: HttpRequest, subscription_id: int, payload: CancelIn):
    sub = get_for_store(Subscription, request.store, pk=subscription_id)
    return subscription_cancel(store=request.store, actor=Actor.for_token(request.api_token),
                               subscription=sub, at_period_end=payload.at_period_end,
                               reason=payload.reason)
