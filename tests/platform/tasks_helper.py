"""Run the queued tasks in this thread and this transaction. The real workers close and
reopen connections (and the shopkeep worker renews leases from a second thread), which a
test's transaction on PostgreSQL does not allow; tests/core/test_requestid.py and
tests/e2e run the real worker."""

from django_tasks_db.models import DBTaskResult


def run_queued_tasks() -> None:
    while True:
        row = DBTaskResult.objects.ready().order_by("enqueued_at").first()
        if row is None:
            return
        result = row.task_result
        try:
            value = row.task.call(*result.args, **result.kwargs)
        except Exception as exc:  # recorded like a worker does; the test sees the row
            row.set_failed(exc)
        else:
            row.set_successful(value)
