"""A task for tests/core/test_requestid.py: it returns the request id it ran under."""

from django_tasks import task

from shopkeep.core import requestid


@task()
def which_request() -> str:
    return requestid.current()
