"""Webhook test fixtures: a real receiver on 127.0.0.1 whose every JSON payload is checked
against the event's schema in ``schemas/``, and a dispatcher run with an injectable clock."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from asgiref.sync import async_to_sync

from shopkeep.webhooks.dispatcher import Dispatcher
from tests.factories import make_store
from tests.webhooks.receiver import Receiver

SCHEMAS = Path(__file__).parent / "schemas"


@cache
def schema_for(event_type: str) -> dict:
    return json.loads((SCHEMAS / f"{event_type}.json").read_text())


def validate_payload(body: bytes | str) -> dict:
    payload = json.loads(body)
    jsonschema.validate(payload, schema_for(payload["event_type"]),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return payload


@pytest.fixture(autouse=True)
def _allow_private(settings) -> None:
    # The receiver listens on 127.0.0.1; SSRF tests switch this back off themselves.
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_ALLOW_HTTP = True


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
    # Every custom-format payload the suite made a dispatcher send must match its schema.
    for request in server.requests:
        if request.header("X-Webhook-Event"):
            validate_payload(request.body)


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def dispatch(clock=None, **kwargs) -> int:
    """Run a dispatcher until nothing is due; its database calls run on this thread, inside
    the test's transaction."""
    if clock is not None:
        kwargs["clock"] = clock
    kwargs.setdefault("rng", random.Random(7))
    kwargs.setdefault("poll_interval", 0.05)
    return async_to_sync(Dispatcher(**kwargs).run_until_idle)()


@pytest.fixture
def store():
    return make_store(name="Block Party")
