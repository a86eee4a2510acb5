"""PostgreSQL races of the crash-safety paths: concurrent same-key refunds at the sandbox,
two runs of one refund's execution, two processes applying one notice, two sweepers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shopkeep.core.jobs import jobs_sweep
from shopkeep.core.tasks import clear_expired_sessions
from shopkeep.core.worker import Worker
from shopkeep.events.models import Event
from shopkeep.orders.models import Order, Refund
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.payments.gateways.base import GatewayError
from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
from shopkeep.payments.models import GatewayEvent, SandboxCharge, SandboxRefund, SandboxSession
from shopkeep.payments.services import notice_process
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, make_shop, place_order
from tests.factories import owner_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 8


def _race(func) -> list:
    barrier = threading.Barrier(RACERS)
    results: list = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(func())
        except Exception as exc:  # the outcome is what the test judges
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def paid():
    store = make_shop()
    order = place_order(store, make_product(store))
    session = SandboxSession.objects.get(reference=order.order_number)
    assert SandboxGateway().pay(session_id=session.pk, card_number=CARD_OK)[0]
    order.refresh_from_db()
    assert order.payment_status == "paid"
    return order


def test_concurrent_refunds_with_one_key_refund_once_at_the_sandbox(paid):
    results = _race(lambda: SandboxGateway().refund(
        payment_id=paid.gateway_payment_id, amount_minor=700, currency="USD", reason="",
        idempotency_key="shopkeep-refund-race"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.refund_id for r in results}) == 1
    assert SandboxRefund.objects.count() == 1
    assert SandboxCharge.objects.get().refunded_minor == 700


def test_concurrent_runs_of_one_refund_settle_it_once(paid):
    refund = refund_request(store=paid.store, actor=Actor.for_user(owner_of(paid.store)),
                            order=paid, amount="7.00", reason="race")
    results = _race(lambda: refund_execute(refund_id=refund.pk))
    assert "succeeded" in results
    assert all(r in ("succeeded", "nothing to do") for r in results), results
    assert SandboxRefund.objects.count() == 1
    assert Order.objects.get(pk=paid.pk).refunded_amount == 7
    assert Refund.objects.get().status == "succeeded"
    assert Event.objects.filter(event_type="order.refunded").count() == 1


def test_a_notice_applied_by_many_processes_at_once_is_applied_once(monkeypatch):
    from django.db import transaction

    store = make_shop()
    order = place_order(store, make_product(store))
    session = SandboxSession.objects.get(reference=order.order_number)
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: None)
    SandboxGateway().pay(session_id=session.pk, card_number=CARD_OK)
    monkeypatch.undo()
    event = GatewayEvent.objects.get()
    results = _race(lambda: notice_process(event_id=event.pk))
    assert sorted(results) == ["already applied"] * (RACERS - 1) + [
        f"order {order.order_number} paid"]
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_concurrent_sweepers_requeue_a_dead_workers_task_once(settings):
    settings.TASK_LEASE_SECONDS = 30
    clear_expired_sessions.enqueue()
    Worker(queue_names=["*"], worker_id="dead")._claim()
    later = timezone.now() + timedelta(seconds=31)
    results = _race(lambda: jobs_sweep(now=later))
    assert sum(r["requeued"] for r in results) == 1, results
    assert DBTaskResult.objects.get().status == "READY"


def test_concurrent_workers_claim_each_task_once():
    for _ in range(RACERS * 2):
        clear_expired_sessions.enqueue()
    counter = iter(range(1000))
    claims = _race(lambda: [Worker(queue_names=["*"], worker_id=f"w{next(counter)}")._claim()[1]
                            for _ in range(2)])
    claimed = [task.pk for pair in claims for task in pair if task is not None]
    assert len(claimed) == len(set(claimed)) == RACERS * 2
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"RUNNING"}


def test_the_same_key_with_other_amounts_at_once_refunds_one_of_them(paid):
    amounts = iter([100 * (n + 1) for n in range(RACERS)])
    results = _race(lambda: SandboxGateway().refund(
        payment_id=paid.gateway_payment_id, amount_minor=next(amounts), currency="USD",
        reason="", idempotency_key="shopkeep-refund-mixed"))
    errors = [r for r in results if isinstance(r, GatewayError)]
    assert len(errors) == RACERS - 1 and {e.code for e in errors} == {"idempotency_error"}
    assert SandboxRefund.objects.count() == 1
