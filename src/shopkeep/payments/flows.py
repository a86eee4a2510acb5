"""The flow layer: the only place that reaches across domains (issue 12, part 3).

Orders, refunds, disputes and subscriptions record their own facts and know nothing of
delivery or of payment gateways. What one business event causes elsewhere happens here, in
the transaction of the event itself:

- paid -> the purchase commands (and the subscription, for a subscription order);
- refund settled (ours, or one made at the provider) -> the take-back commands;
- dispute opened -> the chargeback commands;
- subscription access ended -> the subscription_cancel commands.

It is also where gateways are called: opening a checkout, executing a refund, cancelling,
retrying and reconciling subscriptions, and applying a provider's notices to one store.
Import rule (tests/test_import_graph.py): orders, disputes and subscriptions import neither
``shopkeep.delivery`` nor ``shopkeep.payments.gateways`` (beyond the plain ``base`` types)
nor this module; delivery imports none of them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from shopkeep.core.errors import ServiceError
from shopkeep.core.failpoints import failpoint
from shopkeep.core.money import to_minor
from shopkeep.customers.services import CustomerInput
from shopkeep.delivery import queue as delivery_queue
from shopkeep.disputes import services as disputes
from shopkeep.disputes.models import Dispute
from shopkeep.orders import refunds
from shopkeep.orders import services as orders
from shopkeep.orders.models import Order, Refund
from shopkeep.payments import upgrades
from shopkeep.payments.gateways import get_gateway
from shopkeep.payments.gateways.base import (
    CheckoutRequest,
    GatewayError,
    Notice,
    SubscriptionState,
    SubscriptionTerms,
)
from shopkeep.payments.gift_card_sales import on_gift_cards_paid
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from shopkeep.subscriptions import services as subscriptions
from shopkeep.subscriptions.models import Subscription

logger = logging.getLogger("shopkeep.payments.flows")

# The gateway may or may not have refunded when it answers these: leave the refund pending
# for the reconciliation (payments/refund_reconcile.py) to settle by asking, never mark it
# failed.
UNCERTAIN_ERRORS = frozenset({"idempotency_error", "gateway_unreachable", "rate_limited",
                              "api_error"})


# -- checkout and payment --------------------------------------------------------------------

@transaction.atomic
def order_create(*, store: Store, lines: list[orders.Line], customer: CustomerInput,
                 billing_address: dict | None = None, phone: str = "", gateway: str = "",
                 coupon_code: str = "", gift_card_code: str = "", vat_number: str = "",
                 creator_code: str = "", buyer_ip: str = "",
                 show_in_widgets: bool = False, basket_reminder: bool = False) -> Order:
    """A checkout's pending order (``orders.services.order_create_pending``); an order a gift
    card pays in full is paid in the same transaction, with its purchase commands. A buyer
    (by e-mail) who holds a lower tier of a product pays the upgrade price
    (``payments/upgrades.py``)."""
    found = upgrades.upgrades_for_checkout(store=store, email=customer.email,
                                           product_ids=[line.product_id for line in lines])
    order = orders.order_create_pending(
        store=store, lines=lines, customer=customer, billing_address=billing_address,
        phone=phone, gateway=gateway, coupon_code=coupon_code, gift_card_code=gift_card_code,
        vat_number=vat_number, creator_code=creator_code, buyer_ip=buyer_ip, upgrades=found,
        show_in_widgets=show_in_widgets, basket_reminder=basket_reminder)
    if order.payment_gateway == orders.GIFT_CARD_GATEWAY:
        # Nothing left for a gateway to take: the gift card's debit is the payment.
        paid = order_paid(store=store, order_number=order.order_number,
                          gateway=orders.GIFT_CARD_GATEWAY,
                          payment_id=f"giftcard_{order.order_number}", paid_at=order.created_at)
        order = paid or order
    return order


def checkout_start(*, order: Order, success_url: str, cancel_url: str) -> str:
    """Open the gateway's payment page for ``order``; returns the URL to send the buyer to.

    Runs outside a transaction: the gateway call must not hold the order's row lock. A
    gateway that refuses cancels the order (its stock and promotions are released).
    """
    if order.paid_at is not None:
        return success_url  # paid in full by gift card: no payment page
    gateway = get_gateway(order.payment_gateway, store=order.store)
    items = list(order.items.select_related("product"))
    product = items[0].product if len(items) == 1 else None
    terms = (SubscriptionTerms(interval=product.billing_interval, trial_days=product.trial_days,
                               product_id=product.pk, product_name=product.name)
             if product is not None and product.is_subscription else None)
    try:
        start = gateway.start_checkout(CheckoutRequest(
            store_public_id=order.store.public_id, reference=order.order_number,
            amount_minor=to_minor(order.amount_due, order.currency), currency=order.currency,
            description=", ".join(f"{i.product_name} x{i.quantity}" for i in items),
            customer_email=order.customer_email, success_url=success_url,
            cancel_url=cancel_url, test_mode=order.is_test_order, subscription=terms,
            first_period_credit_minor=to_minor(items[0].upgrade_credit, order.currency)
            if terms is not None else 0))
    except GatewayError as exc:
        if exc.code != "already_paid":
            # Paid at the gateway already: its confirmation is on the way, keep the hold.
            orders.order_cancel_unpaid(order=order,
                                       reason=f"gateway refused checkout: {exc.code}")
        raise ServiceError("gateway_error", exc.message) from None
    Order.objects.filter(pk=order.pk).update(gateway_session_id=start.session_id,
                                             updated_at=timezone.now())
    return start.redirect_url


@transaction.atomic
def order_paid(*, store: Store, order_number: str, gateway: str, payment_id: str,
               paid_at: datetime, notice: Notice | None = None) -> Order | None:
    """The money is taken: the order is paid and its purchase commands are queued, in one
    transaction (they commit with the payment or not at all); a subscription order starts
    its subscription. None when unknown, another store's, or paid already."""
    order = orders.order_mark_paid(store=store, order_number=order_number, gateway=gateway,
                                   payment_id=payment_id, paid_at=paid_at)
    if order is None:
        return None
    # The lower tier's take-back goes first: one player's commands run in queue order.
    for lower in upgrades.on_upgrade_paid(order=order):
        subscription_end_if_due(sub=lower)
    on_gift_cards_paid(order=order)
    delivery_queue.on_order_paid(order=order)
    if notice is not None and notice.subscription_id:
        subscriptions.subscription_start(order=order, notice=notice)
    return order


# -- refunds ---------------------------------------------------------------------------------

@transaction.atomic
def refund_request(*, store: Store, actor: Actor, order: Order,
                   amount: str | Decimal | None, reason: str = "") -> Refund:
    """A pending refund, and its execution queued in the same transaction (a refund is never
    requested without being executed, nor executed without its row)."""
    refund = refunds.refund_create(store=store, actor=actor, order=order, amount=amount,
                                   reason=reason)
    refund_execute_task.enqueue(refund.pk)
    return refund


def refund_execute(*, refund_id: int) -> str:
    """Worker: make the refund at the gateway and settle it. Safe to run any number of times:
    the idempotency key makes the gateway refund once, and settling is conditional."""
    refund = Refund.objects.select_related("order__store").filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.PENDING:
        return "nothing to do"
    order = refund.order
    gateway_amount = refund.amount - refund.gift_card_amount
    if gateway_amount <= 0:
        # All of it goes back onto the gift card: no gateway is involved.
        refund_settle(refund_id=refund.pk, gateway_refund_id=f"giftcard_refund_{refund.pk}")
        return "succeeded"
    try:
        result = get_gateway(order.payment_gateway, store=order.store).refund(
            payment_id=order.gateway_payment_id,
            amount_minor=to_minor(gateway_amount, order.currency), currency=order.currency,
            reason=refund.reason, idempotency_key=refunds.refund_key(refund))
    except GatewayError as exc:
        if exc.code in UNCERTAIN_ERRORS:
            logger.warning("refund %s: outcome unknown at the gateway (%s); the reconciliation "
                           "settles it", refund.pk, exc.code)
            return "unknown at the gateway"
        refunds.refund_fail(refund_id=refund.pk, error=f"{exc.code}: {exc.message}")
        return "failed"
    failpoint("refund.after_gateway")
    if result.status == "succeeded":
        refund_settle(refund_id=refund.pk, gateway_refund_id=result.refund_id)
        return "succeeded"
    Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
        gateway_refund_id=result.refund_id)
    return "pending at the gateway"


@task()
def refund_execute_task(refund_id: int) -> str:
    return refund_execute(refund_id=refund_id)


@transaction.atomic
def refund_settle(*, refund_id: int, gateway_refund_id: str) -> Refund | None:
    """The gateway made our refund: counted once, and a full refund takes back what the
    player received (the order's frozen identity), in the same transaction."""
    refund = refunds.refund_mark_settled(refund_id=refund_id,
                                         gateway_refund_id=gateway_refund_id)
    if refund is not None:
        delivery_queue.on_order_refunded(order=_locked_order(refund.order_id),
                                         actor=refund.requested_by)
    return refund


def refund_settle_by_key(*, store: Store, order_number: str, gateway: str, key: str,
                         gateway_refund_id: str) -> Refund | None:
    """A gateway's notice naming the idempotency key we made a refund with (Stripe's
    metadata, the sandbox's notice): settle that refund, if it is this store's order's and
    pending."""
    prefix = "shopkeep-refund-"
    if not key.startswith(prefix) or not key[len(prefix):].isdigit():
        return None
    refund = Refund.objects.filter(pk=int(key[len(prefix):]), order__store=store,
                                   order__order_number=order_number,
                                   order__payment_gateway=gateway).first()
    if refund is None:
        return None
    return refund_settle(refund_id=refund.pk, gateway_refund_id=gateway_refund_id)


@transaction.atomic
def refund_record_external(*, store: Store, order_number: str, gateway: str,
                           gateway_refund_id: str, amount_minor: int) -> Refund | None:
    """A refund made in the provider's dashboard: recorded once, with its take-back."""
    refund = refunds.refund_external_record(store=store, order_number=order_number,
                                            gateway=gateway,
                                            gateway_refund_id=gateway_refund_id,
                                            amount_minor=amount_minor)
    if refund is not None:
        delivery_queue.on_order_refunded(order=_locked_order(refund.order_id), actor=gateway)
    return refund


def _locked_order(order_id: int) -> Order:
    return Order.objects.select_for_update().select_related("store").get(pk=order_id)


# -- disputes --------------------------------------------------------------------------------

@transaction.atomic
def dispute_open(*, store: Store, gateway: str, order_number: str, dispute_id: str,
                 charge_id: str, amount_minor: int, currency: str, reason: str,
                 reason_description: str, evidence_due_by: datetime | None,
                 opened_at: datetime) -> Dispute | None:
    """A new dispute on the store's paid order and its chargeback commands, at once."""
    dispute = disputes.dispute_record_opened(
        store=store, gateway=gateway, order_number=order_number, dispute_id=dispute_id,
        charge_id=charge_id, amount_minor=amount_minor, currency=currency, reason=reason,
        reason_description=reason_description, evidence_due_by=evidence_due_by,
        opened_at=opened_at)
    if dispute is not None:
        delivery_queue.on_dispute_opened(order=_locked_order(dispute.order_id),
                                         dispute_id=str(dispute.pk), actor=gateway)
    return dispute


@transaction.atomic
def dispute_resolve(*, store: Store, gateway: str, order_number: str, dispute_id: str,
                    status: str, charge_id: str = "", amount_minor: int, currency: str,
                    reason: str, resolved_at: datetime) -> Dispute | None:
    """A dispute closed. A close that overtakes its open opens it first (with its event and
    chargeback commands), so nothing is skipped."""
    if status not in Dispute.RESOLVED:
        raise ValueError(f"not a final dispute status: {status!r}")
    if not disputes.dispute_known(store=store, gateway=gateway, dispute_id=dispute_id):
        opened = dispute_open(store=store, gateway=gateway, order_number=order_number,
                              dispute_id=dispute_id, charge_id=charge_id,
                              amount_minor=amount_minor, currency=currency, reason=reason,
                              reason_description="", evidence_due_by=None,
                              opened_at=resolved_at)
        if opened is None:
            return None
    return disputes.dispute_record_resolved(store=store, gateway=gateway,
                                            order_number=order_number, dispute_id=dispute_id,
                                            status=status, resolved_at=resolved_at)


# -- subscriptions ---------------------------------------------------------------------------

def subscription_end_if_due(*, sub: Subscription, now: datetime | None = None) -> bool:
    """Inside the caller's transaction: if ``sub``'s access has ended, record it and queue
    the subscription_cancel commands for the identity the subscription froze (seed 001:
    players must not keep perks after the subscription ends)."""
    now = now or timezone.now()
    sub = Subscription.objects.select_for_update().select_related("store").get(pk=sub.pk)
    if not subscriptions.subscription_record_ended(sub=sub, now=now):
        return False
    delivery_queue.on_subscription_ended(order=_locked_order(sub.order_id),
                                         subscription_id=sub.pk, identity=sub.identity)
    return True


def subscription_cancel(*, store: Store, actor: Actor, subscription: Subscription,
                        at_period_end: bool = True, reason: str = "",
                        by_customer: bool = False) -> Subscription:
    """Cancel for the store (needs orders.refund) or for the customer (from their account).

    The gateway is told first and outside any transaction: if it refuses, nothing changes
    here and the customer is still billed, which is the truth. Cancelling now ends access at
    once (the subscription_cancel commands are queued with the cancellation).
    """
    reason = subscriptions.subscription_cancel_check(store=store, actor=actor,
                                                     subscription=subscription,
                                                     reason=reason, by_customer=by_customer)
    try:
        get_gateway(subscription.payment_gateway, store=store).cancel_subscription(
            subscription_id=subscription.gateway_subscription_id, at_period_end=at_period_end)
    except GatewayError as exc:
        raise ServiceError("gateway_error", exc.message) from None
    with transaction.atomic():
        sub = subscriptions.subscription_record_cancel_request(
            store=store, subscription=subscription, at_period_end=at_period_end,
            reason=reason, actor=actor)
        subscription_end_if_due(sub=sub)
    sub.refresh_from_db()
    return sub


def subscriptions_end_due(*, now: datetime | None = None) -> int:
    """Periodic: end access for cancelled subscriptions whose paid period is over (and, as a
    safety net, for any cancellation whose immediate end was missed)."""
    now = now or timezone.now()
    count = 0
    due = Subscription.objects.filter(status=Subscription.Status.CANCELED, ended_at__isnull=True,
                                      ends_at__lte=now)
    for sub in due.only("pk")[:500]:
        with transaction.atomic():
            count += subscription_end_if_due(sub=sub, now=now)
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
    claim_until = now + subscriptions.RETRY_CLAIM_LEASE
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
    candidates = Subscription.objects.filter(
        status__in=subscriptions.LIVE) | Subscription.objects.filter(
        Q(ended_at__isnull=True)
        | Q(ended_at__gte=now - subscriptions.RECONCILE_ENDED_WINDOW),
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
        repairs += [f"{label}: {line}" for line in subscription_apply_state(
            store=sub.store, gateway=sub.payment_gateway,
            subscription_id=sub.gateway_subscription_id, state=state, now=now,
            actor=Actor.system("reconcile"))]
    for line in repairs:
        logger.info("reconcile: %s", line)
    return repairs


def subscription_apply_state(*, store: Store, gateway: str, subscription_id: str,
                             state: SubscriptionState, now: datetime,
                             actor: Actor) -> list[str]:
    """The gateway's view of a subscription applied, and access ended if that ended it."""
    with transaction.atomic():
        repairs = subscriptions.subscription_apply_gateway_state(
            store=store, gateway=gateway, subscription_id=subscription_id, state=state,
            now=now, actor=actor)
        _end_if_due(store, gateway, subscription_id)
    return repairs


def _end_if_due(store: Store, gateway: str, subscription_id: str) -> None:
    sub = Subscription.objects.filter(store=store, payment_gateway=gateway,
                                      gateway_subscription_id=subscription_id).first()
    if sub is not None:
        subscription_end_if_due(sub=sub)


# -- gateway notices, applied to one store ----------------------------------------------------

def notice_apply(*, store: Store, gateway: str, n: Notice) -> str:
    """Apply one notice to ``store`` inside the caller's transaction; '' means "cannot yet"
    (its subject is not known). Every lookup is the store's: a notice naming another store's
    order or subscription is treated as unknown and changes nothing there."""
    if n.kind == "payment.succeeded":
        order = order_paid(store=store, order_number=n.reference, gateway=gateway,
                           payment_id=n.payment_id, paid_at=n.occurred_at, notice=n)
        if order is None:
            return "already paid" if _store_order(store, n.reference) else ""
        return f"order {order.order_number} paid"
    if n.kind == "payment.failed":
        order = orders.order_payment_failed(store=store, order_number=n.reference,
                                            gateway=gateway, error_code=n.error_code,
                                            error_message=n.error_message,
                                            failed_at=n.occurred_at)
        return f"order {order.order_number} payment failed" if order else "ignored"
    if n.kind == "refund.succeeded":
        key = str((n.raw or {}).get("idempotency_key") or "")
        if key.startswith("shopkeep-refund-"):
            # One of ours that the gateway reported pending when it was made.
            settled = refund_settle_by_key(store=store, order_number=n.reference,
                                           gateway=gateway, key=key,
                                           gateway_refund_id=n.payment_id)
            return "refund settled" if settled else "refund already settled"
        refund = refund_record_external(store=store, order_number=n.reference, gateway=gateway,
                                        gateway_refund_id=n.payment_id,
                                        amount_minor=n.amount_minor or 0)
        return "refund recorded" if refund else "refund already known"
    if n.kind == "refund.failed":
        return "ignored"
    if n.kind.startswith("subscription."):
        return _subscription_notice(store, gateway, n)
    if n.kind == "dispute.created":
        dispute = dispute_open(store=store, gateway=gateway, order_number=n.reference,
                               dispute_id=n.dispute_id, charge_id=n.charge_id,
                               amount_minor=n.amount_minor or 0, currency=n.currency,
                               reason=n.dispute_reason,
                               reason_description=n.dispute_reason_description,
                               evidence_due_by=n.evidence_due_by, opened_at=n.occurred_at)
        return "dispute opened" if dispute else _known(store, n.reference, "dispute known")
    if n.kind == "dispute.closed":
        dispute = dispute_resolve(store=store, gateway=gateway, order_number=n.reference,
                                  dispute_id=n.dispute_id, status=n.dispute_status,
                                  charge_id=n.charge_id, amount_minor=n.amount_minor or 0,
                                  currency=n.currency, reason=n.dispute_reason,
                                  resolved_at=n.occurred_at)
        return "dispute resolved" if dispute else _known(store, n.reference, "dispute closed")
    raise ValueError(n.kind)  # NOTICE_KINDS is checked by the caller


def _subscription_notice(store: Store, gateway: str, n: Notice) -> str:
    if not Subscription.objects.filter(store=store, payment_gateway=gateway,
                                       gateway_subscription_id=n.subscription_id).exists():
        return ""
    ids = {"store": store, "gateway": gateway, "subscription_id": n.subscription_id}
    if n.kind == "subscription.renewed":
        done = bool(subscriptions.subscription_renewed(
            **ids, period_start=n.period_start, period_end=n.period_end,
            amount_minor=n.amount_minor, renewed_at=n.occurred_at))
    elif n.kind == "subscription.updated":
        done = (n.period_start is not None and n.period_end is not None and bool(
            subscription_apply_state(**ids, state=SubscriptionState(
                status=n.subscription_status or "active", current_period_start=n.period_start,
                current_period_end=n.period_end, cancel_at_period_end=n.cancel_at_period_end),
                now=n.occurred_at, actor=Actor.system(gateway))))
    elif n.kind == "subscription.payment_failed":
        done = bool(subscriptions.subscription_payment_failed(
            **ids, error_code=n.error_code, error_message=n.error_message,
            failed_at=n.occurred_at))
    elif n.kind == "subscription.cancelled":
        done = bool(subscriptions.subscription_cancelled_by_gateway(**ids))
    else:
        raise ValueError(n.kind)
    # The fourth failed renewal and a cancellation at the gateway end access now.
    _end_if_due(store, gateway, n.subscription_id)
    return f"{n.kind} applied" if done else f"{n.kind}: nothing to change"


def _store_order(store: Store, reference: str) -> bool:
    return Order.objects.filter(store=store, order_number=reference).exists()


def _known(store: Store, reference: str, outcome: str) -> str:
    return outcome if _store_order(store, reference) else ""
