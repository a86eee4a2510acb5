"""Operator-defined plans (staff console > Plans) and the demo's two plans."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from shopkeep.core.errors import ServiceError
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.models import BillingPlan, Store, StoreBilling

FIELDS = ("key", "name", "description", "sla_tier", "currency", "price_month", "price_year",
          "stripe_price_month", "stripe_price_year", "trial_days", "max_servers",
          "max_products", "max_members", "max_webhook_endpoints", "is_default", "is_public",
          "sort")


@transaction.atomic
def plan_save(*, actor: Actor, data: dict, plan_id: int | None = None) -> BillingPlan:
    if actor.user is None or not actor.user.is_staff:
        raise ServiceError("forbidden", "Only platform staff define plans.", status=403)
    plan = BillingPlan() if plan_id is None else \
        BillingPlan.objects.select_for_update().filter(pk=plan_id).first()
    if plan is None:
        raise ServiceError("not_found", "No such plan.", status=404)
    if data.get("sla_tier") not in Store.Plan.values:
        raise ServiceError("invalid_tier", "Pick a support tier.", field="sla_tier")
    for price in ("price_month", "price_year"):
        if Decimal(data.get(price) or 0) < 0:
            raise ServiceError("invalid_price", "Prices cannot be negative.", field=price)
    for name in FIELDS:
        if name in data:
            setattr(plan, name, data[name])
    if plan.is_default:
        # One default plan: the new one replaces the old (unique constraint backs this).
        BillingPlan.objects.filter(is_default=True).exclude(pk=plan.pk).update(
            is_default=False)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise ServiceError("key_taken", "Another plan uses this key.", field="key") from None
    audit_record(store=None, actor=actor, action="billing.plan_saved", obj=plan,
                 details={"key": plan.key, "price_month": str(plan.price_month)})
    return plan


def seed_demo_plans(*, stores: list[Store]) -> list[BillingPlan]:
    """Free (the default) and Growth, the first store on Growth and the others on Free, so
    `shopkeep demo` shows both sides of Settings > Plan."""
    free, _ = BillingPlan.objects.update_or_create(key="free", defaults={
        "name": "Free", "description": "Start selling with one server.", "sla_tier": "free",
        "is_default": True, "max_servers": 1, "max_products": 25, "max_members": 2,
        "max_webhook_endpoints": 1, "sort": 0})
    growth, _ = BillingPlan.objects.update_or_create(key="growth", defaults={
        "name": "Growth", "description": "A network of servers with a team.",
        "sla_tier": "growth", "price_month": Decimal("19.00"), "price_year": Decimal("190.00"),
        "trial_days": 14, "max_servers": 10, "max_products": None, "max_members": 10,
        "max_webhook_endpoints": 10, "sort": 1,
        # Real Prices come from the operator's Stripe dashboard; the demo has none.
        "stripe_price_month": "", "stripe_price_year": ""})
    for index, store in enumerate(stores):
        plan = growth if index == 0 else free
        StoreBilling.objects.update_or_create(store=store, defaults={
            "plan": plan, "status": StoreBilling.Status.ACTIVE if plan is growth
            else StoreBilling.Status.NONE})
        Store.objects.filter(pk=store.pk).update(plan=plan.sla_tier)
    return [free, growth]
