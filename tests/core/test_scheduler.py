from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shopkeep.core import scheduler
from shopkeep.core.models import ScheduledJob
from shopkeep.core.tasks import clear_expired_sessions


@pytest.fixture
def one_job(monkeypatch):
    monkeypatch.setattr(scheduler, "_REGISTRY", {})
    scheduler.register_periodic(name="test.sessions", task=clear_expired_sessions,
                                every=timedelta(hours=1))


@pytest.mark.django_db
def test_a_due_job_is_enqueued_once_and_then_waits_for_its_interval(one_job):
    now = timezone.now()
    assert scheduler.run_due_jobs(now=now) == ["test.sessions"]
    assert scheduler.run_due_jobs(now=now + timedelta(minutes=59)) == []
    assert DBTaskResult.objects.count() == 1
    assert ScheduledJob.objects.get().next_run_at == now + timedelta(hours=1)
    assert scheduler.run_due_jobs(now=now + timedelta(hours=1)) == ["test.sessions"]
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db
def test_a_stale_scheduler_loses_the_claim_and_enqueues_nothing(one_job):
    now = timezone.now()
    scheduler.run_due_jobs(now=now)
    row = ScheduledJob.objects.get()
    # Another process moved next_run_at on between our read and our claim.
    ScheduledJob.objects.filter(pk=row.pk).update(next_run_at=now + timedelta(hours=5))
    row.next_run_at = now  # what the stale process believes
    claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
        next_run_at=now + timedelta(hours=1))
    assert claimed == 0
    assert DBTaskResult.objects.count() == 1


# The worker closes and reopens connections between tasks, as in production.
@pytest.mark.django_db(transaction=True)
def test_the_enqueued_job_runs_in_the_worker_and_clears_expired_sessions(one_job):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    old = SessionStore()
    old.set_expiry(-10)
    old.create()
    live = SessionStore()
    live.create()
    scheduler.run_due_jobs()
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_intervals_under_a_second_are_refused():
    with pytest.raises(ValueError):
        scheduler.register_periodic(name="x", task=clear_expired_sessions,
                                    every=timedelta(milliseconds=10))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_on_postgres_enqueue_each_run_exactly_once(one_job):
    ScheduledJob.objects.create(name="test.sessions", next_run_at=timezone.now())
    now = timezone.now()
    barrier = threading.Barrier(8)
    results: list[list[str]] = []

    def tick() -> None:
        barrier.wait()
        try:
            results.append(scheduler.run_due_jobs(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r) for r in results) == 1
    assert DBTaskResult.objects.count() == 1
