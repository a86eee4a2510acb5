"""Plan limits (servers, products, team members, webhook endpoints), enforced in the
services that create those rows. Off unless SHOPKEEP_PLATFORM_BILLING is on: a self-hosted
store has every feature without limits.

A downgrade never deletes anything: rows beyond the new plan's limit stay and keep working;
only new ones are refused until the store is under the limit again (plan_usage explains
it on Settings > Plan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from shopkeep.core.errors import ServiceError
from shopkeep.stores.models import BillingPlan, Store, StoreBilling

RESOURCES = {
    "servers": ("max_servers", "game servers", "game server"),
    "products": ("max_products", "products", "product"),
    "members": ("max_members", "team members", "team member"),
    "webhook_endpoints": ("max_webhook_endpoints", "webhook endpoints", "webhook endpoint"),
}


class PlanLimitReached(ServiceError):
    status = 402


def billing_on() -> bool:
    return settings.SHOPKEEP_PLATFORM_BILLING != "off"


def plan_of(store: Store) -> BillingPlan | None:
    """The plan whose limits apply: the subscription's while it is in good standing (or
    past due: Stripe is still retrying), else the default plan."""
    billing = StoreBilling.objects.filter(store=store).select_related("plan").first()
    if billing and billing.plan and billing.status in (
            StoreBilling.Status.ACTIVE, StoreBilling.Status.TRIALING,
            StoreBilling.Status.PAST_DUE):
        return billing.plan
    return BillingPlan.objects.filter(is_default=True).first()


def limit_check(*, store: Store, resource: str, count: Callable[[], int]) -> None:
    """Refuse one more ``resource`` beyond the plan's limit. Call inside the creating
    service's transaction: the store row is locked before ``count()`` runs, so two requests
    at once cannot both take the last place. The caller counts (its own table)."""
    if not billing_on():
        return
    field, plural, _singular = RESOURCES[resource]
    plan = plan_of(store)
    limit = getattr(plan, field) if plan else None
    if limit is None:
        return
    Store.objects.select_for_update().filter(pk=store.pk).first()
    used = count()
    if used >= limit:
        raise PlanLimitReached(
            "plan_limit", f"The {plan.name} plan includes {limit} {plural} and this store "
            f"has {used}. Upgrade under Settings > Plan, or remove one first.")


@dataclass
class Usage:
    resource: str
    label: str
    used: int
    limit: int | None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def plan_usage(counts: dict[str, int], plan: BillingPlan | None) -> list[Usage]:
    return [Usage(resource, plural.capitalize(), counts[resource],
                  getattr(plan, field) if plan else None)
            for resource, (field, plural, _s) in RESOURCES.items()]


def downgrade_problems(counts: dict[str, int], plan: BillingPlan) -> list[str]:
    """What the store has beyond ``plan``'s limits; nothing is deleted on a downgrade."""
    return [f"{u.label}: {u.used} in use, the {plan.name} plan includes {u.limit}. They keep "
            "working; new ones wait until you are under the limit."
            for u in plan_usage(counts, plan) if u.over]
