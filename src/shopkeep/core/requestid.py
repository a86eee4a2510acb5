"""The request id: one short token that follows a piece of work from the HTTP request that
started it into the background tasks it enqueued and the webhook attempts its events caused,
so one ``grep`` (or one Loki query) finds every log line of a purchase.

It lives in a context variable: set by ``RequestIdMiddleware`` for a request, by the worker
for a task (from the id stored with the task when it was enqueued) and by the webhook
dispatcher for an attempt (from the event's row).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

_current: contextvars.ContextVar[str] = contextvars.ContextVar("shopkeep_request_id",
                                                               default="")
_task: contextvars.ContextVar[str] = contextvars.ContextVar("shopkeep_task_id", default="")
# What a proxy or a client may hand us to continue its own trace; anything else is replaced,
# so a hostile header can neither forge log structure nor grow without bound.
ACCEPTED = re.compile(r"[A-Za-z0-9._-]{8,64}")
HEADER = "X-Request-ID"


def new() -> str:
    return uuid.uuid4().hex


def current() -> str:
    return _current.get()


def from_header(value: str | None) -> str:
    return value if value and ACCEPTED.fullmatch(value) else new()


@contextlib.contextmanager
def bound(request_id: str, *, task_id: str = "") -> Iterator[None]:
    token = _current.set(request_id or "")
    task_token = _task.set(task_id)
    try:
        yield
    finally:
        _current.reset(token)
        _task.reset(task_token)


class ContextFilter(logging.Filter):
    """Puts ``request_id`` and ``task_id`` on every record (empty outside a request/task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # An id given with extra= (the dispatcher's, per attempt) wins over the context's.
        if not getattr(record, "request_id", ""):
            record.request_id = _current.get()
        if not getattr(record, "task_id", ""):
            record.task_id = _task.get()
        return True


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id", "task_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line (SHOPKEEP_LOG_FORMAT=json): what log shippers parse without
    a grok pattern. Extra fields given with ``logger.info(..., extra={...})`` are kept."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or _current.get()
        task_id = getattr(record, "task_id", "") or _task.get()
        if request_id:
            entry["request_id"] = request_id
        if task_id:
            entry["task_id"] = task_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | str | None) \
                    else str(value)
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
