"""Store approval: a new store takes test payments at once; with SHOPKEEP_STORE_APPROVAL on,
it leaves test mode (takes live payments) only after platform staff approved it. Owners
request, staff approve or reject with a reason; each step is audited and e-mailed."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shopkeep.accounts.models import User
from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import LiveApproval, Membership, Role, Store
from shopkeep.stores.permissions import Perm
from shopkeep.stores.tasks import send_store_email


def approval_required() -> bool:
    return bool(settings.SHOPKEEP_STORE_APPROVAL)


def live_payments_problem(store: Store) -> str:
    """Why the store may not leave test mode ('' when it may)."""
    if not approval_required() or store.live_approval == LiveApproval.APPROVED:
        return ""
    if store.live_approval == LiveApproval.PENDING:
        return ("Live payments wait for the platform team's approval, which you requested; "
                "you will get an e-mail. Test payments keep working meanwhile.")
    if store.live_approval == LiveApproval.REJECTED:
        return ("The platform team did not approve live payments: "
                f"{store.live_approval_reason} Fix that and request approval again.")
    return ("Live payments need the platform team's approval first: request it under "
            "Settings > General. Test payments work meanwhile.")


def _owner_emails(store: Store) -> list[str]:
    return sorted(Membership.objects.filter(store=store, role__in=[Role.OWNER, Role.ADMIN])
                  .values_list("user__email", flat=True))


def _require_staff(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_staff or actor.token is not None:
        raise ServiceError("forbidden", "Only platform staff decide on approvals.",
                           status=403)


@transaction.atomic
def store_request_approval(*, store: Store, actor: Actor, note: str = "") -> Store:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    if not approval_required():
        raise ServiceError("approval_off", "This platform needs no approval: turn test mode "
                           "off when you are ready.")
    note = note.strip()[:1000]
    updated = Store.objects.filter(pk=store.pk, live_approval__in=[
        LiveApproval.NOT_REQUESTED, LiveApproval.REJECTED]).update(
        live_approval=LiveApproval.PENDING, live_approval_note=note,
        live_approval_at=timezone.now())
    if updated != 1:
        raise Conflict("already_requested", "Approval was already requested or granted.")
    store.refresh_from_db()
    audit_record(store=store, actor=actor, action="store.approval_requested", obj=store,
                 details={"note": note})
    staff = sorted(User.objects.filter(is_staff=True, is_active=True)
                   .values_list("email", flat=True))
    if staff:
        send_store_email.enqueue(
            to=staff, subject=f"[Shopkeep] Store approval requested: {store.name}",
            body=(f"{store.name} ({store.slug}) asks to take live payments.\n\n"
                  f"{note or '(no note)'}\n\n{absolute_url(reverse('staff:approvals'))}\n"))
    return store


def _decide(*, store_id: int, actor: Actor, approve: bool, reason: str) -> Store:
    _require_staff(actor)
    reason = reason.strip()[:1000]
    if not approve and not reason:
        raise ServiceError("reason_required", "Say why, so the owner can fix it.",
                           field="reason")
    state = LiveApproval.APPROVED if approve else LiveApproval.REJECTED
    updated = Store.objects.filter(pk=store_id, live_approval=LiveApproval.PENDING).update(
        live_approval=state, live_approval_reason=reason, live_approval_at=timezone.now())
    if updated != 1:
        raise Conflict("not_pending", "This store is not waiting for a decision (someone "
                       "else may have decided already).")
    store = Store.objects.get(pk=store_id)
    audit_record(store=store, actor=actor,
                 action="store.approved" if approve else "store.approval_rejected", obj=store,
                 details={"reason": reason})
    settings_link = absolute_url(reverse("dashboard:settings", args=[store.slug]))
    if approve:
        subject = f"[Shopkeep] {store.name} is approved for live payments"
        body = ("The platform team approved your store. Turn test mode off in Settings "
                f"when you are ready to take real payments:\n\n{settings_link}\n")
    else:
        subject = f"[Shopkeep] {store.name}: live payments not approved yet"
        body = (f"The platform team did not approve live payments yet:\n\n{reason}\n\n"
                f"Fix it and request approval again in Settings:\n{settings_link}\n")
    if to := _owner_emails(store):
        send_store_email.enqueue(to=to, subject=subject, body=body)
    return store


@transaction.atomic
def store_approve(*, store_id: int, actor: Actor, note: str = "") -> Store:
    return _decide(store_id=store_id, actor=actor, approve=True, reason=note)


@transaction.atomic
def store_reject(*, store_id: int, actor: Actor, reason: str) -> Store:
    return _decide(store_id=store_id, actor=actor, approve=False, reason=reason)
