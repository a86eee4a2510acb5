from __future__ import annotations

from django_tasks import task

from shopkeep.themes.dns_check import check_domain
from shopkeep.themes.domains import domain_check_record
from shopkeep.themes.models import StoreDomain


@task()
def verify_domain(*, domain_id: int) -> None:
    """Outbound DNS in the worker; idempotent (a repeat only re-checks)."""
    domain = StoreDomain.objects.filter(pk=domain_id).first()
    if domain is None:
        return
    result = check_domain(domain.hostname, domain.verification_token)
    domain_check_record(domain_id=domain_id, ok=result.ok, error=result.error)
