"""``shopkeep worker``: django-tasks-db's worker with leases and a sweeper (``core.jobs``).

Differences from ``db_worker``, each for a crash:
- the claim writes a ``JobLease`` in the same transaction, and a thread renews it while the
  task runs, so a killed worker's task is found by its expired lease;
- every worker sweeps expired leases at start and every third of a lease period, so the
  restarted worker (or any other) re-queues what a dead one held;
- the result is recorded only while the lease is still held, in one transaction with its
  release: a worker that lost its lease (it stalled longer than the lease) leaves the outcome
  to the run that replaced it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.db.utils import OperationalError
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from shopkeep.core import requestid
from shopkeep.core.failpoints import failpoint
from shopkeep.core.heartbeat import Beater
from shopkeep.core.jobs import jobs_sweep, lease_duration, lease_release, lease_renew, lease_take
from shopkeep.core.tasks_backend import request_id_of

logger = logging.getLogger("shopkeep.worker")


class _Renewer(threading.Thread):
    """Keeps one task's lease alive; stops when told or when the lease is found gone."""

    def __init__(self, task_id: Any, worker_id: str, every: float) -> None:
        super().__init__(name=f"lease-{task_id}", daemon=True)
        self.task_id, self.worker_id, self.every = task_id, worker_id, every
        self.done = threading.Event()
        self.lost = False

    def run(self) -> None:
        try:
            while not self.done.wait(self.every):
                try:
                    if not lease_renew(task_id=self.task_id, worker_id=self.worker_id):
                        self.lost = True
                        logger.error("task %s: lease lost (swept); its result will not be "
                                     "recorded by this worker", self.task_id)
                        return
                except Exception:
                    # A database hiccup: try again next round; the lease has slack for it.
                    logger.exception("task %s: lease renewal failed", self.task_id)
        finally:
            connection.close()


def _recycle_connections() -> None:
    # A worker process is never inside an atomic block; a batch run inside one (a test case's
    # transaction, a shell session) must keep its connection: closing it would roll back the
    # caller's uncommitted rows, and PostgreSQL then refuses to reconnect mid-transaction.
    if not connection.in_atomic_block:
        close_old_connections()


class Worker(DBWorker):
    def __init__(self, *, queue_names: list[str], interval: float = 1.0, batch: bool = False,
                 max_tasks: int | None = None, worker_id: str | None = None,
                 backend_name: str = "default", startup_delay: bool = False) -> None:
        super().__init__(queue_names=queue_names, interval=interval, batch=batch,
                         backend_name=backend_name, startup_delay=startup_delay,
                         max_tasks=max_tasks, worker_id=worker_id or get_random_string(32),
                         excluded_queue_names=[])
        self.sweep_every = max(1.0, lease_duration().total_seconds() / 3)
        self._last_sweep = 0.0
        self.beater = Beater("worker", f"worker:{self.worker_id}")

    def _sweep(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_sweep < self.sweep_every:
            return
        self._last_sweep = time.monotonic()
        try:
            jobs_sweep()
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise

    def _claim(self) -> tuple[bool, DBTaskResult | None]:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task = tasks.get_locked()
                if task is not None:
                    task.claim(self.worker_id)
                    lease_take(task=task, worker_id=self.worker_id)
                return True, task
            except OperationalError as exc:
                if is_locked_database_exception(exc):
                    return False, None  # SQLite is busy: try again next round
                raise

    def run(self) -> None:
        logger.info("worker %s started on queues %s (lease %ss)", self.worker_id,
                    ",".join(self.queue_names), int(lease_duration().total_seconds()))
        self._sweep(force=True)
        try:
            self._loop()
        finally:
            if not self.batch:
                self.beater.stop()

    def _loop(self) -> None:
        while self.running:
            _recycle_connections()
            self._sweep()
            if not self.batch:  # a batch run is a one-off, not a worker to watch
                self.beater.beat()
            retrieved, task = self._claim()
            if task is not None:
                self.run_task(task)
            if self.batch and retrieved and task is None:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            _recycle_connections()
            if self.running and task is None:
                time.sleep(self.interval)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        renewer = _Renewer(db_task_result.pk, self.worker_id, self.sweep_every)
        renewer.start()
        outcome: tuple[str, Any] = ("failed", None)
        try:
            self.running_task = True
            failpoint("task.claimed")
            task = db_task_result.task
            task_result = db_task_result.task_result
            # The request that enqueued the task (or a fresh id), so its log lines and the
            # tasks and events it causes in turn share one id.
            with requestid.bound(request_id_of(db_task_result) or requestid.new(),
                                 task_id=str(db_task_result.pk)):
                task_started.send(sender=task.get_backend(), task_result=task_result)
                if task.takes_context:
                    value = task.call(TaskContext(task_result=task_result), *task_result.args,
                                      **task_result.kwargs)
                else:
                    value = task.call(*task_result.args, **task_result.kwargs)
            outcome = ("successful", value)
        except BaseException as exc:  # recorded, as db_worker does
            outcome = ("failed", exc)
        finally:
            renewer.done.set()
            renewer.join()
            self.running_task = False
            self._run_tasks += 1
        failpoint("task.ran")
        self._record(db_task_result, *outcome)

    def _record(self, db_task_result: DBTaskResult, kind: str, value: Any) -> None:
        with transaction.atomic():
            if not lease_release(task_id=db_task_result.pk, worker_id=self.worker_id):
                logger.error("task %s (%s): the lease ran out while it ran, so another "
                             "attempt owns it; this run's result is dropped", db_task_result.pk,
                             db_task_result.task_path)
                return
            if kind == "successful":
                try:
                    db_task_result.set_successful(value)
                except Exception as exc:  # e.g. a return value that is not JSON
                    db_task_result.set_failed(exc)
                    kind = "failed"
            else:
                db_task_result.set_failed(value)
                logger.error("task %s (%s) failed: %r", db_task_result.pk,
                             db_task_result.task_path, value)
        try:
            task_finished.send(sender=type(db_task_result.task.get_backend()),
                               task_result=db_task_result.task_result)
        except Exception:  # a task whose function is gone: logged, recorded
            logger.exception("task %s: finished signal failed", db_task_result.pk)


def run_worker(*, queues: str = "*", interval: float = 1.0, batch: bool = False,
               max_tasks: int | None = None, worker_id: str | None = None,
               handle_signals: bool = True) -> None:
    worker = Worker(queue_names=queues.split(","), interval=interval, batch=batch,
                    max_tasks=max_tasks, worker_id=worker_id)
    if handle_signals and threading.current_thread() is threading.main_thread():
        worker.configure_signals()
    worker.run()
