"""Leases and the sweeper: a dead worker's task runs again, a slow one never overwrites."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shopkeep.core.jobs import LEASE_EXPIRED, jobs_sweep, lease_renew
from shopkeep.core.models import JobLease
from shopkeep.core.tasks import clear_expired_sessions
from shopkeep.core.worker import Worker, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _short_lease(settings):
    settings.TASK_LEASE_SECONDS = 30
    settings.TASK_MAX_ATTEMPTS = 3


def _expired_session() -> str:
    old = SessionStore()
    old.set_expiry(-10)
    old.create()
    return old.session_key


def _claimed(worker_id: str = "w1") -> DBTaskResult:
    """What a worker leaves behind when it is SIGKILLed right after its claim."""
    worker = Worker(queue_names=["*"], worker_id=worker_id)
    retrieved, task = worker._claim()
    assert retrieved and task is not None
    return task


def test_a_claim_takes_a_lease_in_the_same_step():
    result = clear_expired_sessions.enqueue()
    task = _claimed()
    lease = JobLease.objects.get()
    assert str(lease.task_id) == str(result.id) == str(task.pk)
    assert (lease.worker_id, lease.attempt) == ("w1", 1)
    assert 29 <= (lease.expires_at - timezone.now()).total_seconds() <= 30
    assert DBTaskResult.objects.get().status == "RUNNING"


def test_a_dead_workers_task_goes_back_to_the_queue_when_its_lease_runs_out():
    _expired_session()
    clear_expired_sessions.enqueue()
    _claimed()
    assert jobs_sweep() == {"requeued": 0, "failed": 0}  # the lease still runs
    assert jobs_sweep(now=timezone.now() + timedelta(seconds=31)) == {"requeued": 1,
                                                                       "failed": 0}
    row = DBTaskResult.objects.get()
    assert (row.status, row.started_at) == ("READY", None)
    assert not JobLease.objects.exists()
    run_worker(batch=True, worker_id="w2", handle_signals=False)  # the restarted worker
    row.refresh_from_db()
    assert (row.status, row.worker_ids) == ("SUCCESSFUL", ["w1", "w2"])
    assert not Session.objects.exists() and not JobLease.objects.exists()


def test_a_renewed_lease_is_not_swept():
    clear_expired_sessions.enqueue()
    task = _claimed()
    before = JobLease.objects.get().expires_at
    assert lease_renew(task_id=task.pk, worker_id="w1")  # what the worker's thread does
    renewed = JobLease.objects.get().expires_at
    assert renewed > before
    assert jobs_sweep(now=renewed - timedelta(seconds=1)) == {"requeued": 0, "failed": 0}
    assert DBTaskResult.objects.get().status == "RUNNING"


def test_a_task_that_kills_its_worker_every_time_fails_after_the_attempt_budget():
    clear_expired_sessions.enqueue()
    for attempt in range(1, 4):
        _claimed(worker_id=f"w{attempt}")
        jobs_sweep(now=timezone.now() + timedelta(seconds=31))
    row = DBTaskResult.objects.get()
    assert row.status == "FAILED" and row.exception_class_path == LEASE_EXPIRED
    assert "3 times" in row.traceback and row.worker_ids == ["w1", "w2", "w3"]
    run_worker(batch=True, handle_signals=False)
    assert DBTaskResult.objects.get().status == "FAILED"  # not run a fourth time


def test_a_running_task_claimed_without_a_lease_is_swept_one_lease_after_it_started():
    clear_expired_sessions.enqueue()
    DBTaskResult.objects.update(status="RUNNING", worker_ids=["plain-db-worker"],
                                started_at=timezone.now() - timedelta(seconds=20))
    assert jobs_sweep() == {"requeued": 0, "failed": 0}
    assert jobs_sweep(now=timezone.now() + timedelta(seconds=11)) == {"requeued": 1,
                                                                       "failed": 0}
    assert DBTaskResult.objects.get().status == "READY"


def test_a_worker_that_lost_its_lease_records_nothing():
    clear_expired_sessions.enqueue()
    task = _claimed()
    jobs_sweep(now=timezone.now() + timedelta(seconds=31))  # w1 stalled; re-queued
    _claimed(worker_id="w2")  # the new attempt runs
    Worker(queue_names=["*"], worker_id="w1")._record(task, "successful", 7)
    row = DBTaskResult.objects.get()
    assert (row.status, row.return_value) == ("RUNNING", None)  # still w2's
    assert JobLease.objects.get().worker_id == "w2"
    assert not lease_renew(task_id=task.pk, worker_id="w1")


def test_a_finished_task_leaves_no_lease_and_a_failing_one_is_recorded_failed(monkeypatch):
    clear_expired_sessions.enqueue()
    run_worker(batch=True, handle_signals=False)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    monkeypatch.setattr(Session.objects, "filter", lambda **kw: 1 / 0)
    clear_expired_sessions.enqueue()
    run_worker(batch=True, handle_signals=False)
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED",
                                                                            "SUCCESSFUL"]
    assert not JobLease.objects.exists()


def test_jobs_status_shows_counts_leases_and_lease_expired_failures(capsys):
    from shopkeep.cli import main
    from shopkeep.core.jobs import jobs_status

    clear_expired_sessions.enqueue()
    clear_expired_sessions.enqueue()
    _claimed()
    status = jobs_status()
    assert status["counts"] == {"READY": 1, "RUNNING": 1}
    assert [lease["worker"] for lease in status["leases"]] == ["w1"]
    assert status["failed"] == []
    for attempt in range(2, 4):
        jobs_sweep(now=timezone.now() + timedelta(seconds=31))
        _claimed(worker_id=f"w{attempt}")
    jobs_sweep(now=timezone.now() + timedelta(seconds=31))
    status = jobs_status()
    assert [row["error"] for row in status["failed"]] == [LEASE_EXPIRED]
    assert main(["jobs"]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and LEASE_EXPIRED in out
