from __future__ import annotations

from shopkeep.core.errors import PermissionDenied
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Membership, Store
from shopkeep.stores.permissions import Perm, role_has


def require_permission(store: Store, actor: Actor, perm: Perm) -> None:
    """Services re-check permissions so no entry point (view, API, CLI) can skip them.

    The system actor (worker, CLI) has every right; a token's scopes were checked by the API
    layer against the token's own store; a user needs a role in ``store`` granting ``perm``.
    """
    if actor.token is not None:
        if actor.token.store_id != store.pk:
            raise PermissionDenied()
        return
    if actor.user is None:
        return
    role = (Membership.objects.filter(store=store, user=actor.user)
            .values_list("role", flat=True).first())
    if role is None or not role_has(role, perm):
        raise PermissionDenied()
