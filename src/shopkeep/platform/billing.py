"""Plans and billing for store owners through the platform's own Stripe account (Stripe
Billing): Checkout in subscription mode for the first subscription, the customer portal for
changes, payment methods and cancellation (proration as Stripe computes it), and the
account's webhooks to keep ``StoreBilling`` and ``PlatformInvoice`` in step.

Stripe is the source of truth for the subscription: nothing here marks a store paid
without Stripe's signed event, and a plan change takes effect when Stripe says it did.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import ServiceError
from shopkeep.platform.models import PlatformInvoice, PlatformStripeEvent
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.limits import billing_on
from shopkeep.stores.models import BillingPlan, Membership, Role, Store, StoreBilling
from shopkeep.stores.permissions import Perm
from shopkeep.stores.tasks import send_store_email

logger = logging.getLogger("shopkeep.platform.billing")
SIGNATURE_TOLERANCE = 300


class BillingUnavailable(ServiceError):
    status = 503


def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.PLATFORM_STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS))


def _require_billing() -> None:
    if not billing_on():
        raise ServiceError("billing_off", "Billing is off on this installation: every "
                           "feature is available without a plan.")
    if not settings.PLATFORM_STRIPE_SECRET_KEY:
        raise BillingUnavailable("billing_unconfigured", "Billing is not set up yet; the "
                                 "platform team has been told.")


def billing_of(store: Store) -> StoreBilling:
    billing, _ = StoreBilling.objects.get_or_create(store=store)
    return billing


def _owners(store: Store) -> list[str]:
    return sorted(Membership.objects.filter(store=store, role=Role.OWNER)
                  .values_list("user__email", flat=True))


def _mail_to(billing: StoreBilling) -> list[str]:
    return [billing.billing_email] if billing.billing_email else _owners(billing.store)


def _stripe_failed(exc: stripe.StripeError) -> BillingUnavailable:
    logger.warning("platform billing: stripe refused: %s", exc)
    return BillingUnavailable("stripe_error", "Stripe did not answer as expected; nothing "
                              "changed. Try again in a minute.")


def _customer(billing: StoreBilling, api: stripe.StripeClient) -> str:
    if billing.stripe_customer_id:
        return billing.stripe_customer_id
    store = billing.store
    customer = api.v1.customers.create(params={
        "email": (_mail_to(billing) or [""])[0], "name": store.name,
        "metadata": {"store_id": store.public_id}},
        options={"idempotency_key": f"shopkeep-platform-customer-{store.public_id}"})
    StoreBilling.objects.filter(pk=billing.pk, stripe_customer_id="").update(
        stripe_customer_id=customer.id)
    billing.refresh_from_db()
    return billing.stripe_customer_id


def checkout_start(*, store: Store, actor: Actor, plan: BillingPlan, interval: str) -> str:
    """The URL of Stripe Checkout (subscription mode) for ``plan``. Only for a store without
    a live subscription: changes go through the customer portal."""
    require_permission(store, actor, Perm.OWNERS_MANAGE)
    _require_billing()
    if interval not in ("month", "year"):
        raise ServiceError("invalid_interval", "Choose monthly or yearly.", field="interval")
    price = plan.stripe_price_month if interval == "month" else plan.stripe_price_year
    if not plan.is_public or not price:
        raise ServiceError("plan_unavailable", f"The {plan.name} plan cannot be bought "
                           f"{'monthly' if interval == 'month' else 'yearly'}.")
    billing = billing_of(store)
    if billing.stripe_subscription_id and billing.status not in (
            StoreBilling.Status.CANCELED, StoreBilling.Status.NONE):
        raise ServiceError("already_subscribed", "This store has a subscription: change "
                           "the plan in the billing portal.")
    back = absolute_url(reverse("dashboard:plan", args=[store.slug]))
    params: dict = {
        "mode": "subscription", "client_reference_id": store.public_id,
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": f"{back}?checkout=done", "cancel_url": f"{back}?checkout=cancelled",
        "subscription_data": {"metadata": {"store_id": store.public_id, "plan": plan.key}},
        "metadata": {"store_id": store.public_id, "plan": plan.key},
    }
    # One trial per store: a store that had a subscription before pays from the first day.
    if plan.trial_days and not billing.stripe_subscription_id:
        params["subscription_data"]["trial_period_days"] = plan.trial_days
    try:
        api = client()
        params["customer"] = _customer(billing, api)
        session = api.v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    with transaction.atomic():
        audit_record(store=store, actor=actor, action="billing.checkout_started", obj=store,
                     details={"plan": plan.key, "interval": interval})
    return session.url


def portal_url(*, store: Store, actor: Actor) -> str:
    require_permission(store, actor, Perm.OWNERS_MANAGE)
    _require_billing()
    billing = billing_of(store)
    if not billing.stripe_customer_id:
        raise ServiceError("no_customer", "Choose a plan first.")
    try:
        session = client().v1.billing_portal.sessions.create(params={
            "customer": billing.stripe_customer_id,
            "return_url": absolute_url(reverse("dashboard:plan", args=[store.slug]))})
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    return session.url


def cancel_at_period_end(*, store: Store, actor: Actor, cancel: bool) -> StoreBilling:
    """Cancel (or resume) at the end of the paid period; Stripe's event confirms it."""
    require_permission(store, actor, Perm.OWNERS_MANAGE)
    _require_billing()
    billing = billing_of(store)
    if not billing.stripe_subscription_id or billing.status == StoreBilling.Status.CANCELED:
        raise ServiceError("no_subscription", "There is no subscription to cancel.")
    try:
        sub = client().v1.subscriptions.update(
            billing.stripe_subscription_id,
            params={"cancel_at_period_end": cancel})
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    with transaction.atomic():
        _sync_subscription(sub.to_dict() if hasattr(sub, "to_dict") else dict(sub))
        audit_record(store=store, actor=actor,
                     action="billing.cancel_requested" if cancel else "billing.resumed",
                     obj=store, details={"subscription": billing.stripe_subscription_id})
    billing.refresh_from_db()
    return billing


@transaction.atomic
def billing_email_set(*, store: Store, actor: Actor, email: str) -> StoreBilling:
    require_permission(store, actor, Perm.OWNERS_MANAGE)
    billing = billing_of(store)
    previous, billing.billing_email = billing.billing_email, email.strip().lower()
    billing.updated_at = timezone.now()
    billing.save(update_fields=["billing_email", "updated_at"])
    audit_record(store=store, actor=actor, action="billing.email_changed", obj=store,
                 details={"from": previous, "to": billing.billing_email})
    if billing.stripe_customer_id:
        from shopkeep.platform.tasks import billing_push_email

        billing_push_email.enqueue(store_id=store.pk)
    return billing


# -- Stripe's webhooks ------------------------------------------------------------------------

def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _plan_for_price(price_id: str) -> BillingPlan | None:
    if not price_id:
        return None
    return (BillingPlan.objects.filter(stripe_price_month=price_id).first()
            or BillingPlan.objects.filter(stripe_price_year=price_id).first())


def _store_for(obj: dict) -> Store | None:
    store_id = (obj.get("metadata") or {}).get("store_id") or obj.get("client_reference_id")
    if store_id:
        store = Store.objects.filter(public_id=store_id).first()
        if store is not None:
            return store
    customer = obj.get("customer")
    if customer:
        billing = StoreBilling.objects.filter(stripe_customer_id=customer).select_related(
            "store").first()
        return billing.store if billing else None
    return None


def _sync_subscription(sub: dict) -> StoreBilling | None:
    store = _store_for(sub)
    if store is None:
        return None
    billing = StoreBilling.objects.select_for_update().get(pk=billing_of(store).pk)
    if billing.stripe_customer_id and sub.get("customer") and \
            billing.stripe_customer_id != sub["customer"]:
        return None  # another customer's subscription naming this store: ignored
    item = ((sub.get("items") or {}).get("data") or [{}])[0]
    price = item.get("price") or {}
    plan = _plan_for_price(price.get("id", "")) or billing.plan
    status = sub.get("status", "")
    billing.stripe_subscription_id = sub.get("id", billing.stripe_subscription_id)
    billing.stripe_customer_id = billing.stripe_customer_id or sub.get("customer", "")
    billing.status = status if status in StoreBilling.Status.values else billing.status
    billing.plan = plan
    billing.interval = (price.get("recurring") or {}).get("interval", billing.interval) \
        if price.get("recurring") else (
            "year" if plan and price.get("id") == plan.stripe_price_year else "month")
    billing.current_period_end = _ts(item.get("current_period_end")) or \
        billing.current_period_end
    billing.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    billing.updated_at = timezone.now()
    billing.save()
    # The support SLA follows the plan (seed 000); a cancelled store falls to the default.
    effective = plan if billing.status in (StoreBilling.Status.ACTIVE,
                                           StoreBilling.Status.TRIALING,
                                           StoreBilling.Status.PAST_DUE) \
        else BillingPlan.objects.filter(is_default=True).first()
    tier = effective.sla_tier if effective else Store.Plan.FREE
    if store.plan != tier:
        Store.objects.filter(pk=store.pk).update(plan=tier)
        audit_record(store=store, actor=Actor.system("stripe billing"),
                     action="billing.plan_changed", obj=store,
                     details={"plan": effective.key if effective else "", "tier": tier,
                              "status": billing.status})
    return billing


def _record_invoice(inv: dict) -> PlatformInvoice | None:
    store = _store_for(inv)
    if store is None:
        return None
    line = ((inv.get("lines") or {}).get("data") or [{}])[0]
    period = line.get("period") or {}
    values = {"store": store, "number": inv.get("number") or "",
              "status": inv.get("status", ""), "currency": inv.get("currency", "usd"),
              "amount_due": int(inv.get("amount_due") or 0),
              "amount_paid": int(inv.get("amount_paid") or 0),
              "hosted_invoice_url": inv.get("hosted_invoice_url") or "",
              "invoice_pdf": inv.get("invoice_pdf") or "",
              "period_start": _ts(period.get("start")), "period_end": _ts(period.get("end")),
              "created_at": _ts(inv.get("created")) or timezone.now()}
    invoice, _ = PlatformInvoice.objects.update_or_create(stripe_id=inv["id"],
                                                          defaults=values)
    return invoice


def money(amount: int, currency: str) -> str:
    return f"{Decimal(amount) / 100:.2f} {currency.upper()}"


@transaction.atomic
def event_apply(event: dict) -> str:
    """Apply one verified event once. Returns what happened (for the webhook's answer)."""
    kind = str(event.get("type", ""))
    try:
        with transaction.atomic():
            PlatformStripeEvent.objects.create(stripe_id=event["id"], kind=kind)
    except IntegrityError:
        return "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    if kind == "checkout.session.completed" and obj.get("mode") == "subscription":
        store = _store_for(obj)
        if store is None:
            return "ignored: unknown store"
        billing = StoreBilling.objects.select_for_update().get(pk=billing_of(store).pk)
        if billing.stripe_customer_id and obj.get("customer") != billing.stripe_customer_id:
            return "ignored: another customer"
        billing.stripe_customer_id = obj.get("customer") or billing.stripe_customer_id
        billing.stripe_subscription_id = obj.get("subscription") or ""
        billing.save(update_fields=["stripe_customer_id", "stripe_subscription_id"])
        return "linked"
    if kind in ("customer.subscription.created", "customer.subscription.updated",
                "customer.subscription.deleted"):
        billing = _sync_subscription(obj)
        if billing and kind == "customer.subscription.deleted":
            send_store_email.enqueue(
                to=_mail_to(billing), subject=f"[Shopkeep] {billing.store.name}: "
                "subscription ended",
                body="Your subscription ended. The store keeps everything; limits of the "
                     "free plan apply to new servers, products, members and endpoints.\n")
        return "synced" if billing else "ignored: unknown store"
    if kind in ("invoice.paid", "invoice.payment_failed", "invoice.finalized",
                "invoice.updated"):
        invoice = _record_invoice(obj)
        if invoice is None:
            return "ignored: unknown store"
        billing = billing_of(invoice.store)
        if kind == "invoice.payment_failed":
            send_store_email.enqueue(
                to=_mail_to(billing), subject=f"[Shopkeep] Payment failed for "
                f"{invoice.store.name}",
                body=(f"Stripe could not collect {money(invoice.amount_due, invoice.currency)}"
                      f" for invoice {invoice.number or invoice.stripe_id}. Stripe retries "
                      "over the next days; update the card in Settings > Plan > Manage "
                      f"billing.\n{invoice.hosted_invoice_url}\n"))
        elif kind == "invoice.paid" and invoice.amount_paid:
            send_store_email.enqueue(
                to=_mail_to(billing), subject=f"[Shopkeep] Receipt for {invoice.store.name}",
                body=(f"Paid: {money(invoice.amount_paid, invoice.currency)} (invoice "
                      f"{invoice.number or invoice.stripe_id}).\nInvoice: "
                      f"{invoice.hosted_invoice_url}\nPDF: {invoice.invoice_pdf}\n"))
        return "recorded"
    return f"ignored: {kind} is not used"
