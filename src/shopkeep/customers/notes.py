"""The team's private notes on a customer."""

from __future__ import annotations

from django.db import transaction

from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers.models import Customer, CustomerNote
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

MAX_NOTE = 2000


@transaction.atomic
def note_add(*, store: Store, actor: Actor, customer: Customer, body: str) -> CustomerNote:
    # Support staff talk to customers all day: they may write notes, as owners and admins do.
    require_permission(store, actor, Perm.CUSTOMERS_VIEW)
    customer = get_for_store(Customer, store, pk=customer.pk)
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ServiceError("note_empty", "Write the note first.", field="body")
    if len(body) > MAX_NOTE:
        raise ServiceError("note_too_long", f"A note has at most {MAX_NOTE} characters.",
                           field="body")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in body):
        raise ServiceError("invalid_text", "Control characters are not allowed.", field="body")
    note = CustomerNote.objects.create(store=store, customer=customer, body=body,
                                       author_label=actor.label)
    audit_record(store=store, actor=actor, action="customer.note_added", obj=customer,
                 details={"note": body[:80]})
    return note
