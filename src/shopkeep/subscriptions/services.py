"""Subscription lifecycle: start on the first payment, renew, dun, cancel, end.

Dunning schedule (written down, as the issue asks): a failed renewal is retried 3, 5 and 7
days after the previous failure; the fourth failure cancels the subscription at once.
Cancelling marks the subscription ``canceled`` (no more billing) and sets ``ends_at``: the
end of the paid period when ``cancel_at_period_end``, otherwise now. Access, and so the
product's subscription_cancel commands, end at ``ends_at``.

This module records facts only. What reaches across domains lives in ``payments/flows.py``:
telling the gateway (cancel, retry, reconcile) and ending access (the subscription_cancel
commands), which it does right after any cancellation whose ``ends_at`` has come and, as a
safety net, every minute for any it missed (``subscriptions_end_due``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.money import from_minor, quantize
from shopkeep.core.text import clean_line
from shopkeep.events.services import emit
from shopkeep.orders.models import Order
from shopkeep.orders.tax import TaxResult, tax_compute
from shopkeep.payments.gateways.base import Notice, SubscriptionState
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm
from shopkeep.subscriptions import payloads
from shopkeep.subscriptions.models import Renewal, Subscription

logger = logging.getLogger("shopkeep.subscriptions")
DUNNING_RETRY_DELAYS = (timedelta(days=3), timedelta(days=5), timedelta(days=7))
RECONCILE_ENDED_WINDOW = timedelta(days=2)
# How long a claimed retry is held: past it, a retry whose worker died comes due again.
RETRY_CLAIM_LEASE = timedelta(minutes=15)
LIVE = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING, Subscription.Status.PAST_DUE)


def _locked(store: Store, gateway: str, subscription_id: str) -> Subscription | None:
    """The store's subscription with this gateway id, row-locked; another store's is None."""
    return (Subscription.objects.select_for_update()
            .select_related("store", "customer", "product")
            .filter(store=store, payment_gateway=gateway,
                    gateway_subscription_id=subscription_id).first())


def subscription_start(*, order: Order, notice: Notice) -> Subscription | None:
    """Inside the payment's transaction (``payments.flows.order_paid``):
    ``subscription.created``."""
    item = order.items.select_related("product").first()
    if item is None or not notice.subscription_id or notice.period_end is None:
        return None
    # Inside the order's store: an id that another store's notice claimed first must not keep
    # this store's buyer from the subscription they paid for.
    if Subscription.objects.filter(store=order.store, payment_gateway=order.payment_gateway,
                                   gateway_subscription_id=notice.subscription_id).exists():
        return None
    product = item.product
    start = notice.period_start or notice.occurred_at
    trial = product.trial_days > 0
    sub = Subscription.objects.create(
        store=order.store, customer=order.customer, product=product, order=order,
        status=Subscription.Status.TRIALING if trial else Subscription.Status.ACTIVE,
        payment_gateway=order.payment_gateway,
        gateway_subscription_id=notice.subscription_id,
        gateway_customer_id=notice.customer_id, gateway_plan_id=notice.plan_id,
        # An upgrade's credit lowers the first payment only: renewals are at the full price.
        quantity=item.quantity, amount=item.unit_price + item.upgrade_credit,
        currency=order.currency,
        billing_interval=product.billing_interval, current_period_start=start,
        current_period_end=notice.period_end,
        trial_starts_at=start if trial else None,
        trial_ends_at=notice.period_end if trial else None,
        # The subscription delivers to the identity its order froze at checkout.
        game=order.game, player_name=order.player_name, player_uuid=order.player_uuid,
        player_steam_id=order.player_steam_id, player_discord_id=order.player_discord_id)
    sub = Subscription.objects.select_related("store", "customer", "product").get(pk=sub.pk)
    emit(store=order.store, event_type="subscription.created", data=payloads.created_data(sub))
    audit_record(store=order.store, actor=Actor.system(order.payment_gateway),
                 action="subscription.created", obj=sub,
                 details={"order_number": order.order_number})
    return sub


def renewal_tax(*, sub: Subscription, amount: Decimal) -> TaxResult:
    """The tax in a renewal's charge, at the store's rates on the day it renews (a rate the
    owner changed applies from the next renewal on; earlier periods keep theirs). The place is
    the first order's: its tax country, else its billing country, with its VAT number (a
    reverse charge still applies). The charge is what the gateway took, so the tax is the part
    of it that is tax, whether the store's prices include tax or not."""
    order = sub.order
    country = (order.tax_country or (order.billing_address or {}).get("country")
               or order.customer_country)
    try:
        result = tax_compute(store=sub.store, amount=amount, country=country,
                             region=order.tax_region or (order.billing_address or {}).get(
                                 "state", ""), vat_number=order.vat_number)
    except ServiceError:
        result = tax_compute(store=sub.store, amount=amount, country=country)
    if result.rate and not result.inclusive:
        # The gateway charged a gross amount: the tax is its share at today's rate.
        share = quantize(amount - amount * Decimal("100") / (Decimal("100") + result.rate),
                         sub.currency)
        result = TaxResult(tax=share, total=amount, rate=result.rate, inclusive=False,
                           country=result.country, region=result.region, label=result.label,
                           reverse_charge=result.reverse_charge, vat_number=result.vat_number)
    return result


@transaction.atomic
def subscription_renewed(*, store: Store, gateway: str, subscription_id: str,
                         period_start: datetime, period_end: datetime,
                         amount_minor: int | None, renewed_at: datetime) -> Subscription | None:
    """``subscription.renewed``; a notice for a period already applied changes nothing."""
    sub = _locked(store, gateway, subscription_id)
    if sub is None or period_end <= sub.current_period_end:
        return None
    if sub.status == Subscription.Status.CANCELED:
        logger.warning("renewal for canceled subscription %s ignored", sub.pk)
        return None
    amount = from_minor(amount_minor, sub.currency) if amount_minor is not None else sub.amount
    sub.current_period_start, sub.current_period_end = period_start, period_end
    sub.status = Subscription.Status.ACTIVE
    sub.attempt_count, sub.next_retry_at = 0, None
    sub.updated_at = timezone.now()
    sub.save()
    taxed = renewal_tax(sub=sub, amount=amount)
    Renewal.objects.create(store=sub.store, subscription=sub, succeeded=True, amount=amount,
                           period_start=period_start, period_end=period_end, tax=taxed.tax,
                           tax_rate=taxed.rate, tax_inclusive=taxed.inclusive,
                           tax_country=taxed.country if taxed.rate else "")
    emit(store=sub.store, event_type="subscription.renewed",
         data=payloads.renewed_data(sub, renewed_at=renewed_at))
    audit_record(store=sub.store, actor=Actor.system(gateway), action="subscription.renewed",
                 obj=sub, details={"period_end": period_end.isoformat()})
    return sub


@transaction.atomic
def subscription_payment_failed(*, store: Store, gateway: str, subscription_id: str,
                                error_code: str, error_message: str,
                                failed_at: datetime) -> Subscription | None:
    """A failed renewal; the fourth cancels at once (the caller then ends access)."""
    sub = _locked(store, gateway, subscription_id)
    if sub is None or sub.status == Subscription.Status.CANCELED:
        return None
    sub.attempt_count += 1
    last = sub.attempt_count > len(DUNNING_RETRY_DELAYS)
    sub.status = Subscription.Status.PAST_DUE
    sub.next_retry_at = (None if last
                         else failed_at + DUNNING_RETRY_DELAYS[sub.attempt_count - 1])
    sub.updated_at = timezone.now()
    sub.save()
    Renewal.objects.create(store=sub.store, subscription=sub, succeeded=False, amount=sub.amount,
                           error_code=error_code[:64], error_message=error_message[:300])
    emit(store=sub.store, event_type="subscription.payment_failed",
         data=payloads.payment_failed_data(sub, error_code=error_code[:64],
                                           error_message=error_message[:300],
                                           failed_at=failed_at))
    audit_record(store=sub.store, actor=Actor.system(gateway),
                 action="subscription.payment_failed", obj=sub,
                 details={"attempt_count": sub.attempt_count, "error_code": error_code})
    if last:
        # The gateway is told by the reconciliation job, which cancels there what we cancelled.
        subscription_record_cancelled(sub=sub, at_period_end=False,
                                      reason="Payment failed repeatedly",
                                      actor=Actor.system("dunning"))
    return sub


def subscription_record_cancelled(*, sub: Subscription, at_period_end: bool, reason: str,
                                  actor: Actor) -> None:
    """Inside the caller's transaction, ``sub`` row-locked: ``canceled`` with its
    ``ends_at``; ``subscription.cancelled``. Access ends separately (``subscription_end``
    through the flow layer), when ``ends_at`` comes."""
    now = timezone.now()
    sub.status = Subscription.Status.CANCELED
    sub.cancel_at_period_end = at_period_end
    sub.canceled_at = now
    sub.cancel_reason = reason[:300]
    sub.ends_at = sub.current_period_end if at_period_end and sub.current_period_end > now \
        else now
    sub.next_retry_at = None
    sub.updated_at = now
    sub.save()
    emit(store=sub.store, event_type="subscription.cancelled", data=payloads.cancelled_data(sub))
    audit_record(store=sub.store, actor=actor, action="subscription.cancelled", obj=sub,
                 details={"reason": sub.cancel_reason, "at_period_end": at_period_end,
                          "ends_at": sub.ends_at.isoformat()})


def subscription_record_ended(*, sub: Subscription, now: datetime) -> bool:
    """Inside the caller's transaction, ``sub`` row-locked: access ended (``ended_at``).
    Returns False when it had ended already or is not due; the flow layer queues the
    subscription_cancel commands in the same transaction when True."""
    if (sub.status != Subscription.Status.CANCELED or sub.ended_at is not None
            or sub.ends_at is None or sub.ends_at > now):
        return False
    sub.ended_at = now
    sub.save(update_fields=["ended_at"])
    audit_record(store=sub.store, actor=Actor.system(), action="subscription.ended", obj=sub)
    return True


def subscription_cancel_check(*, store: Store, actor: Actor, subscription: Subscription,
                              reason: str = "", by_customer: bool = False) -> str:
    """Refuse a cancellation before the gateway is asked; returns the reason to record.
    The store needs orders.refund; a customer cancels their own from their account."""
    if not by_customer:
        require_permission(store, actor, Perm.ORDERS_REFUND)
    if subscription.store_id != store.pk:
        raise Conflict("not_found", "No such subscription.")
    if subscription.status == Subscription.Status.CANCELED:
        raise Conflict("already_cancelled", "This subscription is already cancelled.")
    return clean_line(reason, max_length=300) or (
        "Customer requested cancellation" if by_customer else "Cancelled by the store")


@transaction.atomic
def subscription_record_cancel_request(*, store: Store, subscription: Subscription,
                                       at_period_end: bool, reason: str,
                                       actor: Actor) -> Subscription:
    """The gateway accepted the cancellation: record it (once)."""
    sub = _locked(store, subscription.payment_gateway, subscription.gateway_subscription_id)
    if sub is None:
        raise Conflict("not_found", "No such subscription.")
    if sub.status != Subscription.Status.CANCELED:
        subscription_record_cancelled(sub=sub, at_period_end=at_period_end, reason=reason,
                                      actor=actor)
    return sub


@transaction.atomic
def subscription_cancelled_by_gateway(*, store: Store, gateway: str, subscription_id: str,
                                      reason: str = "Cancelled at the payment gateway"
                                      ) -> Subscription | None:
    sub = _locked(store, gateway, subscription_id)
    if sub is None or sub.status == Subscription.Status.CANCELED:
        return None
    subscription_record_cancelled(sub=sub, at_period_end=False, reason=reason,
                                  actor=Actor.system(gateway))
    return sub


def subscription_apply_gateway_state(*, store: Store, gateway: str, subscription_id: str,
                                     state: SubscriptionState, now: datetime,
                                     actor: Actor) -> list[str]:
    """Bring a live subscription in line with the gateway's view of it (the hourly
    reconciliation, or a provider's "subscription changed" notice). Returns what changed."""
    sub = (Subscription.objects.filter(store=store, payment_gateway=gateway,
                                       gateway_subscription_id=subscription_id).first())
    if sub is None or sub.status == Subscription.Status.CANCELED:
        return []
    repairs: list[str] = []
    # Only a paid period counts: Stripe moves the period forward even when the renewal
    # payment fails (the subscription is then past_due, and dunning handles it).
    missed_renewal = (state.current_period_end > sub.current_period_end
                      and state.status == "active")
    if missed_renewal and subscription_renewed(
            store=store, gateway=gateway, subscription_id=subscription_id,
            period_start=state.current_period_start, period_end=state.current_period_end,
            amount_minor=None, renewed_at=now):
        repairs.append("missed renewal applied")
    if state.status == "canceled":
        if subscription_cancelled_by_gateway(store=store, gateway=gateway,
                                             subscription_id=subscription_id):
            repairs.append("cancelled, as at the gateway")
    elif state.cancel_at_period_end and not sub.cancel_at_period_end:
        with transaction.atomic():
            locked = _locked(store, gateway, subscription_id)
            if locked.status != Subscription.Status.CANCELED:
                subscription_record_cancelled(sub=locked, at_period_end=True,
                                              reason="Cancelled at the payment gateway",
                                              actor=actor)
                repairs.append("cancellation at period end recorded")
    return repairs
