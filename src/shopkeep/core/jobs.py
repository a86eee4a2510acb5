"""Leases for background tasks, and the sweeper that re-queues a dead worker's tasks.

django-tasks-db marks a claimed row ``RUNNING`` and nothing else: a worker killed mid-task
leaves it ``RUNNING`` forever. Shopkeep's worker (``core.worker``) therefore writes a
``JobLease`` in the claim's own transaction and renews it while the task runs. The sweeper,
run by every worker a few times per lease period, puts each task whose lease ran out back to
``READY`` (a new attempt) or, after ``TASK_MAX_ATTEMPTS`` attempts, marks it ``FAILED`` with
``LeaseExpired``, so a task that kills its worker every time cannot loop forever.

Re-running a task is safe because every task is idempotent (docs/operations.md lists each
one and why); a lease only decides *when* the re-run happens.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shopkeep.core.models import JobLease

logger = logging.getLogger("shopkeep.jobs")
LEASE_EXPIRED = "shopkeep.core.jobs.LeaseExpired"


class LeaseExpired(Exception):
    """Recorded as a task's error when its workers died ``TASK_MAX_ATTEMPTS`` times."""


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.TASK_LEASE_SECONDS)


def lease_take(*, task: DBTaskResult, worker_id: str, now: datetime | None = None) -> JobLease:
    """Inside the claim's transaction: the task is ours until the lease runs out."""
    now = now or timezone.now()
    lease, _ = JobLease.objects.update_or_create(task_id=task.pk, defaults={
        "worker_id": worker_id, "attempt": len(task.worker_ids), "claimed_at": now,
        "expires_at": now + lease_duration()})
    return lease


def lease_renew(*, task_id, worker_id: str) -> bool:
    """False when the lease is gone (swept): the worker must not record a result then."""
    return JobLease.objects.filter(task_id=task_id, worker_id=worker_id).update(
        expires_at=timezone.now() + lease_duration()) == 1


def lease_release(*, task_id, worker_id: str) -> bool:
    """Inside the transaction that records the result; True if the lease was still ours."""
    return JobLease.objects.filter(task_id=task_id, worker_id=worker_id).delete()[0] == 1


def jobs_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Re-queue (or fail, past the attempt budget) every running task whose lease ran out.

    A running task with no lease at all was claimed by a worker that takes none (plain
    ``db_worker``, or a version before leases): its lease is taken to end one lease period
    after it started.
    """
    now = now or timezone.now()
    result = {"requeued": 0, "failed": 0}
    expired = list(JobLease.objects.filter(expires_at__lt=now)
                   .values_list("task_id", flat=True)[:limit])
    leased = JobLease.objects.values("task_id")
    orphans = list(DBTaskResult.objects.running()
                   .filter(started_at__lt=now - lease_duration())
                   .exclude(pk__in=leased).values_list("pk", flat=True)[:limit])
    for task_id in [*expired, *orphans]:
        outcome = _sweep_one(task_id, now)
        if outcome:
            result[outcome] += 1
    if result["requeued"] or result["failed"]:
        logger.warning("sweeper: %(requeued)d task(s) re-queued, %(failed)d failed after too "
                       "many attempts", result)
    return result


def _sweep_one(task_id, now: datetime) -> str:
    with transaction.atomic():
        task = (DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=task_id).first())
        if task is None:
            return ""
        lease = JobLease.objects.select_for_update().filter(task_id=task_id).first()
        if lease is not None and lease.expires_at >= now:
            return ""  # renewed since we looked
        if lease is not None:
            lease.delete()
        if task.status != TaskResultStatus.RUNNING:
            return ""  # finished after all (a lease left behind by a crash while recording)
        attempts = len(task.worker_ids)
        if attempts >= settings.TASK_MAX_ATTEMPTS:
            task.status = TaskResultStatus.FAILED
            task.finished_at = now
            task.exception_class_path = LEASE_EXPIRED
            task.traceback = (f"{LEASE_EXPIRED}: the worker running this task stopped renewing "
                              f"its lease {attempts} times (workers: "
                              f"{', '.join(task.worker_ids)}); not retried again.\n")
            task.save(update_fields=["status", "finished_at", "exception_class_path",
                                     "traceback"])
            logger.error("task %s (%s) failed: its worker died %d times", task.pk,
                         task.task_path, attempts)
            return "failed"
        task.status = TaskResultStatus.READY
        task.started_at = None
        task.save(update_fields=["status", "started_at"])
        logger.warning("task %s (%s) re-queued: the lease of worker %s ran out (attempt %d)",
                       task.pk, task.task_path, task.worker_ids[-1] if task.worker_ids else "?",
                       attempts)
        return "requeued"


def jobs_status(*, now: datetime | None = None, failed_limit: int = 20) -> dict:
    """What an operator asks after a crash: tasks by status, who holds which lease and until
    when, and the latest failures (``LeaseExpired`` ones are tasks that killed their worker)."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for status in DBTaskResult.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    leases = [{"task": str(lease.task_id), "worker": lease.worker_id, "attempt": lease.attempt,
               "expires_in_s": round((lease.expires_at - now).total_seconds(), 1)}
              for lease in JobLease.objects.order_by("expires_at")[:100]]
    failed = [{"task": str(row.pk), "path": row.task_path, "error": row.exception_class_path,
               "finished_at": row.finished_at.isoformat() if row.finished_at else None}
              for row in DBTaskResult.objects.failed().order_by("-finished_at")[:failed_limit]]
    return {"counts": counts, "leases": leases, "failed": failed}
