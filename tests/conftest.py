"""Suite-wide fixtures and the PostgreSQL / Chromium rules.

- Tests marked ``postgres`` need PostgreSQL. On SQLite they are deselected when a PostgreSQL
  pass follows (SHOPKEEP_TEST_DATABASE_URL set, as `make test` does in CI), skipped with a
  message locally, and a failure in CI.
- Tests marked ``browser`` need /usr/bin/chromium: skipped locally when it is missing, a
  failure in CI.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told it is safe (it is: the loop is Playwright's).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _on_postgres() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_pg = _on_postgres()
    pg_pass_follows = bool(os.environ.get("SHOPKEEP_TEST_DATABASE_URL")) and not on_pg
    keep, deselected = [], []
    for item in items:
        if "postgres" in item.keywords and not on_pg:
            if pg_pass_follows:
                deselected.append(item)
                continue
            message = ("needs PostgreSQL: set SHOPKEEP_TEST_DATABASE_URL="
                       "postgres://postgres@127.0.0.1:5432/test and run `make test`")
            item.add_marker(pytest.mark.skip(reason=message) if not IN_CI
                            else pytest.mark.usefixtures("_fail_in_ci_postgres"))
        if "browser" in item.keywords and not os.path.exists(CHROMIUM):
            message = f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
            item.add_marker(pytest.mark.skip(reason=message) if not IN_CI
                            else pytest.mark.usefixtures("_fail_in_ci_chromium"))
        keep.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = keep


@pytest.fixture
def _fail_in_ci_postgres() -> None:
    pytest.fail("CI must run this test on PostgreSQL, but the database is SQLite")


@pytest.fixture
def _fail_in_ci_chromium() -> None:
    pytest.fail(f"CI must run browser tests, but {CHROMIUM} is missing")


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    settings.TASKS = {"default": {"BACKEND": "shopkeep.core.tasks_backend.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Rate-limit counters live in the cache; one test's failed logins must not leak into another.
    from django.core.cache import cache

    cache.clear()


def which_chromium() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


@pytest.fixture(autouse=True)
def _events_match_their_schemas(request: pytest.FixtureRequest):
    """Every event any test writes must match seed 002's schema for its type
    (tests/webhooks/schemas), so no domain can drift from the payload contract unnoticed."""
    uses_db = ({"db", "transactional_db"} & set(request.fixturenames)
               or request.node.get_closest_marker("django_db"))
    if not uses_db or request.node.get_closest_marker("synthetic_events"):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from django.db import connection

    if connection.in_atomic_block and connection.connection is None:
        return  # the test closed the connection inside its transaction: nothing to read
    from shopkeep.core.timefmt import iso
    from shopkeep.events.models import Event
    from tests.webhooks.conftest import validate_payload

    for event in Event.objects.all():
        envelope = {"id": f"wh_del_{event.pk}", "event_type": event.event_type,
                    "created_at": iso(event.created_at), "data": event.data}
        validate_payload(json.dumps(envelope))
