"""Custom domains: add, check (the DNS query runs in the worker), record the result, remove.
A domain is served only while verified; the host cache forgets it on every change."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm
from shopkeep.themes.hosts import forget_domain, forget_primary
from shopkeep.themes.models import StoreDomain

MAX_DOMAINS = 5
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def clean_hostname(value: str) -> str:
    host = (value or "").strip().lower().rstrip(".")
    # A pasted address ("https://shop.example.com/") is fine; a path or port is not.
    host = host.removeprefix("https://").removeprefix("http://").removesuffix("/")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = ""
    labels = host.split(".")
    if (len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels)
            or labels[-1].isdigit()):
        raise ServiceError("invalid_domain", "Enter a domain name like shop.example.com.",
                           field="hostname")
    suffix = settings.SHOPKEEP_STORE_DOMAIN
    if host in settings.PLATFORM_HOSTS or (suffix and (host == suffix
                                                       or host.endswith(f".{suffix}"))):
        raise ServiceError("invalid_domain", "That name belongs to the platform.",
                           field="hostname")
    return host


def _forget(hostname: str, store_id: int) -> None:
    # Now (this process answers from the new state at once) and after commit (a request
    # that refilled the cache meanwhile read the old row).
    def forget() -> None:
        forget_domain(hostname)
        forget_primary(store_id)

    forget()
    transaction.on_commit(forget)


@transaction.atomic
def domain_add(*, store: Store, actor: Actor, hostname: str) -> StoreDomain:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    host = clean_hostname(hostname)
    if StoreDomain.objects.filter(store=store).count() >= MAX_DOMAINS:
        raise ServiceError("too_many_domains", f"A store has at most {MAX_DOMAINS} domains.")
    if StoreDomain.objects.filter(hostname=host).exists():
        raise Conflict("domain_taken", "This domain is already added to a store.",
                       field="hostname")
    domain = StoreDomain.objects.create(store=store, hostname=host)
    audit_record(store=store, actor=actor, action="domain.added", obj=domain,
                 details={"hostname": host})
    return domain


@transaction.atomic
def domain_remove(*, store: Store, actor: Actor, domain: StoreDomain) -> None:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    deleted, _ = StoreDomain.objects.filter(pk=domain.pk, store=store).delete()
    if deleted:
        _forget(domain.hostname, store.pk)
        audit_record(store=store, actor=actor, action="domain.removed",
                     details={"hostname": domain.hostname})


def domain_check_request(*, store: Store, actor: Actor, domain: StoreDomain) -> None:
    """Queue the DNS check; the page says the result arrives within a minute."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    from shopkeep.themes.tasks import verify_domain

    with transaction.atomic():
        audit_record(store=store, actor=actor, action="domain.check_requested", obj=domain,
                     details={"hostname": domain.hostname})
        transaction.on_commit(lambda: verify_domain.enqueue(domain_id=domain.pk))


@transaction.atomic
def domain_check_record(*, domain_id: int, ok: bool, error: str) -> StoreDomain | None:
    """The worker's result. A domain removed meanwhile is left removed."""
    domain = StoreDomain.objects.select_for_update().filter(pk=domain_id).first()
    if domain is None:
        return None
    was = domain.status
    now = timezone.now()
    domain.last_checked_at = now
    domain.last_error = "" if ok else error[:300]
    if ok:
        domain.status = StoreDomain.Status.VERIFIED
        domain.verified_at = domain.verified_at or now
    else:
        # A verified domain whose records disappear stops being served.
        domain.status = StoreDomain.Status.FAILED
    domain.save(update_fields=["last_checked_at", "last_error", "status", "verified_at"])
    if domain.status != was:
        audit_record(store=domain.store, actor=Actor.system("domain check"),
                     action="domain.verified" if ok else "domain.check_failed", obj=domain,
                     details={"hostname": domain.hostname, "error": domain.last_error})
    _forget(domain.hostname, domain.store_id)
    return domain


@transaction.atomic
def domain_set_primary(*, store: Store, actor: Actor, domain: StoreDomain | None) -> None:
    """Make ``domain`` (verified, this store's) the store's main address, or with None go
    back to having none (canonical links then use the first verified domain and no host
    redirects). The store's other hosts redirect their GET requests to the primary."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    rows = list(StoreDomain.objects.select_for_update().filter(store=store))
    if domain is not None:
        chosen = next((row for row in rows if row.pk == domain.pk), None)
        if chosen is None:
            raise ServiceError("not_found", "No such domain in this store.", status=404)
        if chosen.status != StoreDomain.Status.VERIFIED:
            raise ServiceError("domain_not_verified", "Only a verified domain can be the main "
                               "address: create its DNS records and press Check first.")
        if chosen.is_primary:
            return
    StoreDomain.objects.filter(store=store, is_primary=True).update(is_primary=False)
    if domain is not None:
        StoreDomain.objects.filter(pk=domain.pk, store=store).update(is_primary=True)
    for row in rows:
        _forget(row.hostname, store.pk)
    audit_record(store=store, actor=actor, action="domain.primary_set",
                 obj=domain, details={"hostname": domain.hostname if domain else ""})
