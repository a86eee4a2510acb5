"""Writes to stores, members and API tokens. Each function is one transaction with its audit row."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from shopkeep.accounts.models import User
from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.core.ids import hash_secret, new_secret
from shopkeep.stores.approval import live_payments_problem
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.limits import limit_check
from shopkeep.stores.models import (
    CURRENCIES,
    GAMES,
    ApiToken,
    Membership,
    Role,
    Store,
    validate_time_zone,
)
from shopkeep.stores.permissions import SCOPES, Perm, role_has, token_allows

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$")
# Slugs that would shadow a route or confuse customers.
RESERVED_SLUGS = frozenset({
    "admin", "api", "accounts", "dashboard", "staff", "static", "media", "healthz", "readyz",
    "store", "stores", "www", "shopkeep", "support", "new",
})
TOKEN_PREFIX = "sk"
# last_used_at is informational; writing it on every request would make each API call a write.
TOKEN_TOUCH_INTERVAL = timedelta(seconds=60)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("invalid_name", "Give the store a name.", field="name")
    if len(name) > 100:
        raise ServiceError("invalid_name", "The name can have at most 100 characters.",
                           field="name")
    return name


def _check_currency(currency: str) -> str:
    currency = (currency or "").upper()
    if currency not in CURRENCIES:
        raise ServiceError("invalid_currency", f"Unsupported currency {currency!r}.",
                           field="currency")
    return currency


def _check_time_zone(time_zone: str) -> str:
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        raise ServiceError("invalid_time_zone",
                           f"{time_zone!r} is not an IANA time zone such as Europe/Berlin.",
                           field="time_zone") from None
    return time_zone


@transaction.atomic
def store_create(*, owner: User, name: str, slug: str, currency: str = "USD",
                 time_zone: str = "UTC") -> Store:
    name = _clean_name(name)
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise ServiceError("invalid_slug", "The address must be 3 to 50 lower-case letters, "
                           "digits or dashes, not starting or ending with a dash.", field="slug")
    if slug in RESERVED_SLUGS:
        raise ServiceError("invalid_slug", f"The address {slug!r} is reserved.", field="slug")
    if Store.objects.filter(slug=slug).exists():
        raise Conflict("slug_taken", f"The address {slug!r} is taken.", field="slug")
    try:
        with transaction.atomic():
            store = Store.objects.create(name=name, slug=slug, currency=_check_currency(currency),
                                         time_zone=_check_time_zone(time_zone))
    except IntegrityError:
        # Two sign-ups racing for the same slug: the unique index decides.
        raise Conflict("slug_taken", f"The address {slug!r} is taken.", field="slug") from None
    Membership.objects.create(store=store, user=owner, role=Role.OWNER)
    audit_record(store=store, actor=Actor.for_user(owner), action="store.created", obj=store,
                 details={"name": name, "slug": slug})
    return store


@transaction.atomic
def store_update_settings(*, store: Store, actor: Actor, name: str, currency: str,
                          time_zone: str, test_mode: bool, game: str) -> Store:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    store = Store.objects.select_for_update().get(pk=store.pk)
    new = {"name": _clean_name(name), "currency": _check_currency(currency),
           "time_zone": _check_time_zone(time_zone), "test_mode": bool(test_mode),
           "game": _check_game(game)}
    changes = {field: {"old": getattr(store, field), "new": value}
               for field, value in new.items() if getattr(store, field) != value}
    if not changes:
        return store
    if store.test_mode and not new["test_mode"] and (problem := live_payments_problem(store)):
        raise ServiceError("approval_required", problem, field="test_mode")
    for field, value in new.items():
        setattr(store, field, value)
    store.save(update_fields=[*new.keys(), "updated_at"])
    audit_record(store=store, actor=actor, action="store.updated", obj=store,
                 details={"changes": changes})
    return store


def _check_game(game: str) -> str:
    if game not in GAMES:
        raise ServiceError("invalid_game", f"Unknown game {game!r}.", field="game")
    return game


@transaction.atomic
def store_set_plan_and_status(*, store: Store, actor: Actor, plan: str, status: str) -> Store:
    """Platform staff only: plans are billing, not something an owner sets for themselves."""
    if actor.user is not None and not actor.user.is_staff:
        raise PermissionDenied("Only platform staff change a store's plan or status.")
    if actor.token is not None:
        raise PermissionDenied("Only platform staff change a store's plan or status.")
    if plan not in Store.Plan.values:
        raise ServiceError("invalid_plan", f"Unknown plan {plan!r}.", field="plan")
    if status not in Store.Status.values:
        raise ServiceError("invalid_status", f"Unknown status {status!r}.", field="status")
    store = Store.objects.select_for_update().get(pk=store.pk)
    changes = {}
    if store.plan != plan:
        changes["plan"] = {"old": store.plan, "new": plan}
    if store.status != status:
        changes["status"] = {"old": store.status, "new": status}
    if changes:
        store.plan, store.status = plan, status
        store.save(update_fields=["plan", "status", "updated_at"])
        audit_record(store=store, actor=actor, action="store.plan_changed", obj=store,
                     details={"changes": changes})
    return store


def _actor_role(store: Store, actor: Actor) -> str | None:
    if actor.user is None:
        return None
    return (Membership.objects.filter(store=store, user=actor.user)
            .values_list("role", flat=True).first())


def _check_owner_rule(store: Store, actor: Actor, *roles: str) -> None:
    """Only owners (or the system) touch owner memberships."""
    if Role.OWNER not in roles or actor.user is None:
        return
    role = _actor_role(store, actor)
    if role is None or not role_has(role, Perm.OWNERS_MANAGE):
        raise PermissionDenied("Only an owner can add, change or remove owners.")


def _ensure_owner_remains(store: Store, membership: Membership) -> None:
    others = (Membership.objects.select_for_update()
              .filter(store=store, role=Role.OWNER).exclude(pk=membership.pk))
    if not others.exists():
        raise Conflict("last_owner", "A store needs at least one owner; make someone else "
                       "owner first.")


@transaction.atomic
def member_add(*, store: Store, actor: Actor, email: str, role: str) -> Membership:
    require_permission(store, actor, Perm.MEMBERS_MANAGE)
    if role not in Role.values:
        raise ServiceError("invalid_role", f"Unknown role {role!r}.", field="role")
    _check_owner_rule(store, actor, role)
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        raise ServiceError("unknown_user", "No Shopkeep account uses that e-mail address; ask "
                           "them to sign up first, then add them.", field="email")
    if Membership.objects.filter(store=store, user=user).exists():
        raise Conflict("already_member", f"{email} is already a member of this store.",
                       field="email")
    limit_check(store=store, resource="members",
                count=Membership.objects.filter(store=store).count)
    membership = Membership.objects.create(store=store, user=user, role=role)
    audit_record(store=store, actor=actor, action="member.added", obj=membership,
                 details={"email": email, "role": role})
    return membership


@transaction.atomic
def member_change_role(*, store: Store, actor: Actor, membership: Membership,
                       role: str) -> Membership:
    require_permission(store, actor, Perm.MEMBERS_MANAGE)
    if role not in Role.values:
        raise ServiceError("invalid_role", f"Unknown role {role!r}.", field="role")
    membership = Membership.objects.select_for_update().get(pk=membership.pk, store=store)
    if membership.role == role:
        return membership
    _check_owner_rule(store, actor, membership.role, role)
    if membership.role == Role.OWNER:
        _ensure_owner_remains(store, membership)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(store=store, actor=actor, action="member.role_changed", obj=membership,
                 details={"email": membership.user.email, "old": old, "new": role})
    return membership


@transaction.atomic
def member_remove(*, store: Store, actor: Actor, membership: Membership) -> None:
    require_permission(store, actor, Perm.MEMBERS_MANAGE)
    membership = Membership.objects.select_for_update().get(pk=membership.pk, store=store)
    _check_owner_rule(store, actor, membership.role)
    if membership.role == Role.OWNER:
        _ensure_owner_remains(store, membership)
    # A removed member's tokens would otherwise keep their access alive.
    revoked = (ApiToken.objects.filter(store=store, created_by=membership.user,
                                       revoked_at__isnull=True)
               .update(revoked_at=timezone.now()))
    audit_record(store=store, actor=actor, action="member.removed", obj=membership,
                 details={"email": membership.user.email, "role": membership.role,
                          "tokens_revoked": revoked})
    membership.delete()


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ServiceError("invalid_scope", f"Unknown scope(s): {', '.join(unknown)}.",
                           field="scopes")
    if not scopes:
        raise ServiceError("invalid_scope", "Choose at least one scope.", field="scopes")
    return sorted(set(scopes))


@transaction.atomic
def token_create(*, store: Store, actor: Actor, name: str, scopes: list[str],
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Returns the token row and the raw key; the raw key is never stored or shown again."""
    require_permission(store, actor, Perm.TOKENS_MANAGE)
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ServiceError("invalid_name", "Give the token a name of at most 100 characters.",
                           field="name")
    scopes = _check_scopes(list(scopes))
    if actor.token is not None:
        # A token may only mint tokens weaker than itself, or one leaked key mints any other.
        # "Holds" follows token_allows: a resource's write scope includes its read scope.
        wider = [s for s in scopes if not token_allows(actor.token.scopes, s)]
        if wider:
            raise PermissionDenied("A token can only create tokens with scopes it holds itself: "
                                   + ", ".join(wider))
    if expires_at is not None and timezone.is_naive(expires_at):
        # Clients often send "2026-12-01T00:00:00" without an offset; read it as UTC.
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("invalid_expiry", "The expiry date must be in the future.",
                           field="expires_at")
    raw = new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        store=store, name=name, prefix=raw[: len(TOKEN_PREFIX) + 9], key_hash=hash_secret(raw),
        scopes=scopes, created_by=actor.user, expires_at=expires_at,
    )
    audit_record(store=store, actor=actor, action="token.created", obj=token,
                 details={"name": name, "scopes": scopes, "prefix": token.prefix})
    return token, raw


@transaction.atomic
def token_revoke(*, store: Store, actor: Actor, token: ApiToken) -> ApiToken:
    require_permission(store, actor, Perm.TOKENS_MANAGE)
    updated = ApiToken.objects.filter(pk=token.pk, store=store, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    token.refresh_from_db()
    if updated:
        audit_record(store=store, actor=actor, action="token.revoked", obj=token,
                     details={"name": token.name, "prefix": token.prefix})
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The active token for a raw bearer key, or None. Touches ``last_used_at`` at most once a
    minute with a conditional UPDATE, so concurrent requests do not pile up writes."""
    if not raw or not raw.startswith(TOKEN_PREFIX + "_") or len(raw) > 200:
        return None
    token = (ApiToken.objects.select_related("store", "created_by")
             .filter(key_hash=hash_secret(raw)).first())
    if token is None or not token.is_active or token.store.status == Store.Status.CLOSED:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_INTERVAL)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token

