from __future__ import annotations

from django.db.models import QuerySet

from shopkeep.accounts.models import User
from shopkeep.core.tenancy import NotFound
from shopkeep.stores.models import ApiToken, AuditLog, Membership, Store


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return (Membership.objects.filter(user=user)
            .exclude(store__status=Store.Status.CLOSED)
            .select_related("store").order_by("store__name", "store_id"))


def membership_for_slug(*, user: User, slug: str) -> Membership:
    """The user's membership in the store at ``slug``; 404 alike for no store and no access."""
    membership = (memberships_for_user(user=user).filter(store__slug=slug).first()
                  if user.is_authenticated else None)
    if membership is None:
        raise NotFound("store not found")
    return membership


def store_members(*, store: Store) -> QuerySet[Membership]:
    return Membership.objects.filter(store=store).select_related("user").order_by("role", "id")


def store_tokens(*, store: Store) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(store=store).select_related("created_by")


def store_audit_log(*, store: Store) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(store=store).select_related("actor_user")
