"""django-tasks-db's backend, with the request id stored next to each task.

The id goes into the row's ``args_kwargs`` JSON under its own key (django-tasks reads only
``args`` and ``kwargs`` from it), so the task's signature is untouched and the worker can
bind the id while the task runs (core/worker.py).
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.backend import DatabaseBackend as _Base
from django_tasks_db.compat import normalize_json
from django_tasks_db.models import DBTaskResult

from shopkeep.core import requestid


class DatabaseBackend(_Base):
    def _task_to_db_task(self, task: Any, args: Any, kwargs: Any) -> DBTaskResult:
        request_id = requestid.current()
        if not request_id:
            return super()._task_to_db_task(task, args, kwargs)
        # The base class's INSERT with one more key: no second write per enqueue.
        return DBTaskResult.objects.create(
            id=self._get_id(),
            args_kwargs={**normalize_json({"args": args, "kwargs": kwargs}),
                         "request_id": request_id},
            priority=task.priority, task_path=task.module_path, queue_name=task.queue_name,
            run_after=task.run_after, backend_name=self.alias)


def request_id_of(row: DBTaskResult) -> str:
    value = (row.args_kwargs or {}).get("request_id", "")
    return value if isinstance(value, str) and requestid.ACCEPTED.fullmatch(value) else ""
