"""Creator codes: the owner's writes and the checkout's lookup."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.promotions.coupons import normalise_code
from shopkeep.promotions.models import CreatorCode
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def creator_code_find(*, store: Store, code: str) -> CreatorCode | None:
    """The active code, None for an empty entry; unknown codes are refused with a message."""
    code = normalise_code(code or "")
    if not code:
        return None
    found = CreatorCode.objects.filter(store=store, code=code, is_active=True).first()
    if found is None:
        raise ServiceError("creator_code_unknown", f"The creator code {code} is not valid "
                           "here.", field="creator_code")
    return found


def _clean(code: str, name: str, share_percent: object) -> tuple[str, str, Decimal]:
    code = normalise_code(code or "")
    if len(code) < 2 or not set(code) <= CODE_CHARS:
        raise ServiceError("invalid_code", "A code is 2 to 40 letters, digits, - or _.",
                           field="code")
    if has_control_chars(name or ""):
        raise ServiceError("invalid_name", "No control characters.", field="name")
    name = clean_line(name or "", max_length=100)
    if not name:
        raise ServiceError("invalid_name", "A name is required.", field="name")
    try:
        share = Decimal(str(share_percent or "0").strip())
    except InvalidOperation:
        share = Decimal("-1")
    if not share.is_finite() or not 0 <= share <= 100 or share != share.quantize(
            Decimal("0.01")):
        raise ServiceError("invalid_share", "The share is a percentage from 0 to 100.",
                           field="share_percent")
    return code, name, share


@transaction.atomic
def creator_code_save(*, store: Store, actor: Actor, code: str, name: str,
                      share_percent: object = "0", is_active: bool = True,
                      creator: CreatorCode | None = None) -> CreatorCode:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    code, name, share = _clean(code, name, share_percent)
    row = creator or CreatorCode(store=store)
    if creator is not None:
        row = CreatorCode.objects.select_for_update().get(pk=creator.pk, store=store)
    row.code, row.name, row.share_percent, row.is_active = code, name, share, bool(is_active)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict("code_taken", f"Another creator already uses the code {code}.",
                       field="code") from None
    audit_record(store=store, actor=actor, action="creator_code.saved", obj=row,
                 details={"code": code, "share_percent": str(share)})
    return row


@transaction.atomic
def creator_code_delete(*, store: Store, actor: Actor, creator: CreatorCode) -> None:
    """Orders keep the code they were bought with, so the report still counts them."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    audit_record(store=store, actor=actor, action="creator_code.deleted", obj=creator,
                 details={"code": creator.code})
    CreatorCode.objects.filter(pk=creator.pk, store=store).delete()
