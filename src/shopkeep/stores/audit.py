from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

from shopkeep.stores.models import ApiToken, AuditLog, Store

if TYPE_CHECKING:
    from shopkeep.accounts.models import User


@dataclass(frozen=True)
class Actor:
    """Who performs a write: a signed-in user, an API token, or the system (worker, CLI)."""

    user: User | None = None
    token: ApiToken | None = None
    label: str = "system"

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(user=user, label=user.email)

    @classmethod
    def for_token(cls, token: ApiToken) -> Actor:
        return cls(token=token, user=token.created_by, label=f"token {token.prefix}")

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label)


def audit_record(*, store: Store | None, actor: Actor, action: str,
                 obj: models.Model | None = None, details: dict | None = None) -> AuditLog:
    """Write the audit row; call it inside the service's transaction."""
    return AuditLog.objects.create(
        store=store,
        actor_user=actor.user,
        actor_token=actor.token,
        actor_label=actor.label[:200],
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        details=details or {},
    )
