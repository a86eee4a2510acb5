"""The sandbox's notices are durable: recorded with the charge, applied by the worker.

Before, the notice was sent from an in-process ``on_commit`` callback: a crash right after
the charge committed lost it, and the order stayed unpaid with the money taken. Here no
callback runs (``crashed_after_commit`` drops them, as a dead process would) and the worker
still applies it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from shopkeep.core.worker import run_worker
from shopkeep.events.models import Event
from shopkeep.payments.gateways.sandbox import CARD_DECLINED, CARD_OK, SandboxGateway
from shopkeep.payments.models import GatewayEvent, SandboxSession, SandboxSubscription
from shopkeep.payments.services import notice_process
from shopkeep.subscriptions.models import Subscription
from tests.commerce import make_product, make_shop, paid_order, place_order

pytestmark = pytest.mark.django_db(transaction=True)


def _drop_on_commit_callbacks(monkeypatch) -> None:
    """The process dies right after its commit: its on_commit callbacks never run."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: None)


@pytest.fixture
def crashed_after_commit(monkeypatch):
    _drop_on_commit_callbacks(monkeypatch)


def _pay_and_crash(order, card=CARD_OK):
    session = SandboxSession.objects.get(reference=order.order_number)
    ok, _ = SandboxGateway().pay(session_id=session.pk, card_number=card)
    order.refresh_from_db()
    return ok


def _worker() -> None:
    run_worker(batch=True, handle_signals=False)


def test_a_payment_whose_process_died_after_the_commit_is_applied_by_the_worker(
        crashed_after_commit):
    store = make_shop()
    order = place_order(store, make_product(store))
    assert _pay_and_crash(order)
    assert order.payment_status == "pending" and not Event.objects.filter(
        event_type="order.received").exists()
    event = GatewayEvent.objects.get()
    assert (event.kind, event.processed_at, event.outcome) == ("payment.succeeded", None,
                                                               "queued")
    assert DBTaskResult.objects.filter(task_path__endswith="process_notice",
                                       status="READY").count() == 1
    _worker()
    order.refresh_from_db()
    assert order.payment_status == "paid"
    event.refresh_from_db()
    assert event.processed_at is not None and event.outcome.endswith("paid")
    assert Event.objects.filter(event_type="order.received").count() == 1
    assert notice_process(event_id=event.pk) == "already applied"
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_the_fast_path_and_the_worker_apply_a_notice_once(django_capture_on_commit_callbacks):
    store = make_shop()
    order = paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)
    assert order.payment_status == "paid"  # applied at once, after the commit
    _worker()  # the queued task finds it applied
    (row,) = DBTaskResult.objects.filter(task_path__endswith="process_notice")
    assert (row.status, row.return_value) == ("SUCCESSFUL", "already applied")
    assert Event.objects.filter(event_type="order.received").count() == 1


def test_a_declined_payment_is_durable_too(crashed_after_commit):
    store = make_shop()
    order = place_order(store, make_product(store))
    assert not _pay_and_crash(order, CARD_DECLINED)
    _worker()
    order.refresh_from_db()
    assert order.payment_status == "failed"
    assert Event.objects.get(event_type="payment.failed").data["error_code"] == "card_declined"


def test_a_renewal_billed_by_the_sandbox_clock_survives_a_crash_after_its_commit(
        django_capture_on_commit_callbacks, monkeypatch):
    store = make_shop()
    monthly = make_product(store, name="VIP Monthly", price="9.99", type="subscription",
                           billing_interval="month")
    paid_order(store, monthly, capture=django_capture_on_commit_callbacks)
    remote = SandboxSubscription.objects.get()
    old_end = remote.current_period_end
    _drop_on_commit_callbacks(monkeypatch)
    assert SandboxGateway().bill_due(now=remote.current_period_end) == 1
    assert Subscription.objects.get().current_period_end == old_end  # not told yet
    _worker()
    remote.refresh_from_db()
    sub = Subscription.objects.get()
    assert sub.current_period_end == remote.current_period_end
    assert sub.current_period_end > old_end + timedelta(days=27)
    assert GatewayEvent.objects.filter(kind="subscription.renewed",
                                       processed_at__isnull=False).count() == 1
