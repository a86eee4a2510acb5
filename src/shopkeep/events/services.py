from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from shopkeep.core import requestid
from shopkeep.events.catalogue import is_known
from shopkeep.events.models import Event
from shopkeep.stores.models import Store


class EventOutsideTransaction(RuntimeError):
    """emit() was called outside a transaction: the event could outlive a rolled-back change."""


def emit(*, store: Store, event_type: str, data: dict[str, Any]) -> Event:
    """Record an event in the caller's transaction.

    It must run inside ``transaction.atomic`` with the write it describes: both commit or
    neither does, so no webhook announces a change that did not happen and no change goes
    unannounced.
    """
    if not is_known(event_type):
        raise ValueError(f"unknown event type {event_type!r}")
    if not transaction.get_connection().in_atomic_block:
        raise EventOutsideTransaction(f"emit({event_type!r}) must run inside transaction.atomic")
    # Round-trip through JSON now so a non-serialisable value fails the write, not the worker.
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return Event.objects.create(store=store, event_type=event_type, data=payload,
                                request_id=requestid.current())
