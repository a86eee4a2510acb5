"""Subscription lifecycle: start on the first payment, renew, dun, cancel, end, reconcile.

Dunning schedule (written down, as the issue asks): a failed renewal is retried 3, 5 and 7
days after the previous failure; the fourth failure cancels the subscription at once.
Cancelling marks the subscription ``canceled`` (no more billing) and sets ``ends_at``: the
end of the paid period when ``cancel_at_period_end``, otherwise now. Access, and so the
product's subscription_cancel commands, end at ``ends_at`` (``subscriptions_end_due``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.money import from_minor
from shopkeep.core.text import clean_line
from shopkeep.delivery import queue as delivery_queue
from shopkeep.events.services import emit
from shopkeep.orders.models import Order
from shopkeep.payments.gateways import get_gateway
from shopkeep.payments.gateways.base import GatewayError, Notice, SubscriptionState
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


def _locked(gateway: str, subscription_id: str) -> Subscription | None:
    return (Subscription.objects.select_for_update()
            .select_related("store", "customer", "product")
            .filter(payment_gateway=gateway, gateway_subscription_id=subscription_id).first())


def subscription_start(*, order: Order, notice: Notice) -> Subscription | None:
    """Inside ``order_mark_paid``'s caller's transaction: ``subscription.created``."""
    item = order.items.select_related("product").first()
    if item is None or not notice.subscription_id or notice.period_end is None:
        return None
    if Subscription.objects.filter(payment_gateway=order.payment_gateway,
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
        quantity=item.quantity, amount=item.unit_price, currency=order.currency,
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


@transaction.atomic
def subscription_renewed(*, gateway: str, subscription_id: str, period_start: datetime,
                         period_end: datetime, amount_minor: int | None,
                         renewed_at: datetime) -> Subscription | None:
    """``subscription.renewed``; a notice for a period already applied changes nothing."""
    sub = _locked(gateway, subscription_id)
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
    Renewal.objects.create(store=sub.store, subscription=sub, succeeded=True, amount=amount,
                           period_start=period_start, period_end=period_end)
    emit(store=sub.store, event_type="subscription.renewed",
         data=payloads.renewed_data(sub, renewed_at=renewed_at))
    audit_record(store=sub.store, actor=Actor.system(gateway), action="subscription.renewed",
                 obj=sub, details={"period_end": period_end.isoformat()})
    return sub


@transaction.atomic
def subscription_payment_failed(*, gateway: str, subscription_id: str, error_code: str,
                                error_message: str, failed_at: datetime) -> Subscription | None:
    sub = _locked(gateway, subscription_id)
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
        _mark_cancelled(sub, at_period_end=False, reason="Payment failed repeatedly",
                        actor=Actor.system("dunning"))
    return sub


def _mark_cancelled(sub: Subscription, *, at_period_end: bool, reason: str,
                    actor: Actor) -> None:
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
    if sub.ends_at <= now:
        _end(sub, now)


def _end(sub: Subscription, now: datetime) -> None:
    """Access ends now: the product's subscription_cancel commands are queued in this same
    transaction (seed 001: players must not keep perks after the subscription ends)."""
    sub.ended_at = now
    sub.save(update_fields=["ended_at"])
    order = Order.objects.select_for_update().select_related("store", "customer").get(
        pk=sub.order_id)
    delivery_queue.on_subscription_ended(order=order, subscription_id=sub.pk,
                                         identity=sub.identity)
    audit_record(store=sub.store, actor=Actor.system(), action="subscription.ended", obj=sub)


def subscription_cancel(*, store: Store, actor: Actor, subscription: Subscription,
                        at_period_end: bool = True, reason: str = "",
                        by_customer: bool = False) -> Subscription:
    """Cancel for the store (needs orders.refund) or for the customer (from their account).

    The gateway is told first and outside any transaction: if it refuses, nothing changes
    here and the customer is still billed, which is the truth.
    """
    if not by_customer:
        require_permission(store, actor, Perm.ORDERS_REFUND)
    if subscription.store_id != store.pk:
        raise Conflict("not_found", "No such subscription.")
    if subscription.status == Subscription.Status.CANCELED:
        raise Conflict("already_cancelled", "This subscription is already cancelled.")
    reason = clean_line(reason, max_length=300) or (
        "Customer requested cancellation" if by_customer else "Cancelled by the store")
    try:
        get_gateway(subscription.payment_gateway, store=store).cancel_subscription(
            subscription_id=subscription.gateway_subscription_id, at_period_end=at_period_end)
    except GatewayError as exc:
        raise ServiceError("gateway_error", exc.message) from None
    with transaction.atomic():
        sub = _locked(subscription.payment_gateway, subscription.gateway_subscription_id)
        if sub.status != Subscription.Status.CANCELED:
            _mark_cancelled(sub, at_period_end=at_period_end, reason=reason, actor=actor)
    return sub


@transaction.atomic
def subscription_cancelled_by_gateway(*, gateway: str, subscription_id: str,
                                      reason: str = "Cancelled at the payment gateway"
                                      ) -> Subscription | None:
    sub = _locked(gateway, subscription_id)
    if sub is None or sub.status == Subscription.Status.CANCELED:
        return None
    _mark_cancelled(sub, at_period_end=False, reason=reason, actor=Actor.system(gateway))
    return sub


def subscriptions_end_due(*, now: datetime | None = None) -> int:
    """Periodic: end access for cancelled subscriptions whose paid period is over."""
    now = now or timezone.now()
    count = 0
    due = Subscription.objects.filter(status=Subscription.Status.CANCELED, ended_at__isnull=True,
                                      ends_at__lte=now)
    for pk in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            sub = (Subscription.objects.select_for_update().select_related("store")
                   .filter(pk=pk, ended_at__isnull=True).first())
            if sub is not None:
                _end(sub, now)
                count += 1
    return count


def subscriptions_retry_due(*, now: datetime | None = None) -> int:
    """Periodic: ask the gateway to retry each past-due renewal whose retry time came.

    The claim is a lease: a conditional UPDATE moves ``next_retry_at`` to ``now +
    RETRY_CLAIM_LEASE``, so two workers never retry the same subscription at once, and a
    worker that dies before the gateway call leaves a retry that comes due again instead of
    none. The outcome comes back as a notice, which sets the next retry time (or clears it);
    a re-run after the gateway billed finds nothing open there (the sandbox, like Stripe's
    invoice, refuses a second payment).
    """
    now = now or timezone.now()
    count = 0
    claim_until = now + RETRY_CLAIM_LEASE
    due = Subscription.objects.filter(status=Subscription.Status.PAST_DUE,
                                      next_retry_at__lte=now)
    for sub in due.select_related("store")[:500]:
        claimed = Subscription.objects.filter(pk=sub.pk, next_retry_at=sub.next_retry_at).update(
            next_retry_at=claim_until)
        if not claimed:
            continue
        mine = Subscription.objects.filter(pk=sub.pk, next_retry_at=claim_until)
        try:
            get_gateway(sub.payment_gateway, store=sub.store).retry_subscription_payment(
                subscription_id=sub.gateway_subscription_id)
        except GatewayError as exc:
            logger.warning("retry of subscription %s failed at the gateway: %s", sub.pk, exc)
            mine.update(next_retry_at=now + timedelta(hours=1))
            continue
        mine.update(next_retry_at=None)  # unless the outcome's notice set the next one already
        count += 1
    return count


def subscriptions_reconcile(*, now: datetime | None = None) -> list[str]:
    """Hourly: compare each subscription with the gateway's state and repair what a missed
    callback left behind. Returns one line per repair."""
    now = now or timezone.now()
    repairs: list[str] = []
    # Recently ended ones too: a dunning cancellation ends access at once and relies on this
    # job to cancel at the gateway, which would otherwise keep billing.
    candidates = Subscription.objects.filter(status__in=LIVE) | Subscription.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=now - RECONCILE_ENDED_WINDOW),
        status=Subscription.Status.CANCELED)
    for sub in candidates.select_related("store")[:2000]:
        try:
            state = get_gateway(sub.payment_gateway, store=sub.store).subscription_state(
                subscription_id=sub.gateway_subscription_id)
        except GatewayError as exc:
            logger.warning("reconcile: cannot read subscription %s: %s", sub.pk, exc)
            continue
        label = f"subscription {sub.pk} ({sub.gateway_subscription_id})"
        if sub.status == Subscription.Status.CANCELED:
            if state.status != "canceled" and not state.cancel_at_period_end:
                try:
                    get_gateway(sub.payment_gateway, store=sub.store).cancel_subscription(
                        subscription_id=sub.gateway_subscription_id,
                        at_period_end=bool(sub.ends_at and sub.ends_at > now))
                    repairs.append(f"{label}: cancelled at the gateway too")
                except GatewayError as exc:
                    logger.warning("reconcile: cannot cancel %s: %s", label, exc)
            continue
        repairs += [f"{label}: {line}" for line in subscription_apply_gateway_state(
            gateway=sub.payment_gateway, subscription_id=sub.gateway_subscription_id,
            state=state, now=now, actor=Actor.system("reconcile"))]
    for line in repairs:
        logger.info("reconcile: %s", line)
    return repairs


def subscription_apply_gateway_state(*, gateway: str, subscription_id: str,
                                     state: SubscriptionState, now: datetime,
                                     actor: Actor) -> list[str]:
    """Bring a live subscription in line with the gateway's view of it (the hourly
    reconciliation, or a provider's "subscription changed" notice). Returns what changed."""
    sub = (Subscription.objects.filter(payment_gateway=gateway,
                                       gateway_subscription_id=subscription_id).first())
    if sub is None or sub.status == Subscription.Status.CANCELED:
        return []
    repairs: list[str] = []
    # Only a paid period counts: Stripe moves the period forward even when the renewal
    # payment fails (the subscription is then past_due, and dunning handles it).
    missed_renewal = (state.current_period_end > sub.current_period_end
                      and state.status == "active")
    if missed_renewal and subscription_renewed(
            gateway=gateway, subscription_id=subscription_id,
            period_start=state.current_period_start, period_end=state.current_period_end,
            amount_minor=None, renewed_at=now):
        repairs.append("missed renewal applied")
    if state.status == "canceled":
        if subscription_cancelled_by_gateway(gateway=gateway, subscription_id=subscription_id):
            repairs.append("cancelled, as at the gateway")
    elif state.cancel_at_period_end and not sub.cancel_at_period_end:
        with transaction.atomic():
            locked = _locked(gateway, subscription_id)
            if locked.status != Subscription.Status.CANCELED:
                _mark_cancelled(locked, at_period_end=True,
                                reason="Cancelled at the payment gateway", actor=actor)
                repairs.append("cancellation at period end recorded")
    return repairs
