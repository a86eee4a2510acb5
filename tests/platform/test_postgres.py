"""On PostgreSQL: plan limits hold under concurrent creations (the store row lock), two
staff decisions on one approval request decide once, and two status samplers each add
their own check to the day's row."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shopkeep.delivery.models import GameServer
from shopkeep.platform.models import StatusDay
from shopkeep.platform.status_services import status_sample
from shopkeep.stores.approval import store_approve, store_reject, store_request_approval
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, BillingPlan, LiveApproval, Store
from tests.delivery.conftest import add_server
from tests.factories import make_store, make_user, owner_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(count: int, work) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # counted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_eight_servers_at_once_against_a_limit_of_three(settings):
    settings.SHOPKEEP_PLATFORM_BILLING = "stripe"
    BillingPlan.objects.create(key="free", name="Free", is_default=True, max_servers=3)
    store = make_store(slug="race")
    errors = _together(8, lambda n: add_server(store, f"Server {n}"))
    assert GameServer.objects.filter(store=store).count() == 3
    assert len(errors) == 5
    assert all(getattr(e, "code", "") == "plan_limit" for e in errors)


def test_two_staff_deciding_at_once_decide_once(settings):
    settings.SHOPKEEP_STORE_APPROVAL = True
    store = make_store(slug="race")
    store_request_approval(store=store, actor=Actor.for_user(owner_of(store)))
    staff = [make_user(is_staff=True), make_user(is_staff=True)]

    def decide(n: int) -> None:
        actor = Actor.for_user(staff[n])
        if n == 0:
            store_approve(store_id=store.pk, actor=actor)
        else:
            store_reject(store_id=store.pk, actor=actor, reason="Missing terms.")

    errors = _together(2, decide)
    assert len(errors) == 1 and errors[0].code == "not_pending"
    assert Store.objects.get(pk=store.pk).live_approval in (LiveApproval.APPROVED,
                                                            LiveApproval.REJECTED)
    assert AuditLog.objects.filter(action__in=["store.approved",
                                               "store.approval_rejected"]).count() == 1


def test_concurrent_samples_are_all_counted():
    errors = _together(4, lambda n: status_sample())
    assert errors == []
    assert set(StatusDay.objects.values_list("samples", flat=True)) == {4}
