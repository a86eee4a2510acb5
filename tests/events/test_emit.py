"""emit() writes event rows only inside the caller's transaction; the catalogue is seed 002."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from shopkeep.events.catalogue import (
    ALL_EVENT_NAMES,
    CATEGORIES,
    EVENT_TYPES,
    LEGACY_ALIASES,
    is_known,
    is_legacy,
)
from shopkeep.events.models import Event
from shopkeep.events.services import EventOutsideTransaction, emit
from shopkeep.stores.models import Store
from tests.factories import make_store

# These tests exercise emit() itself with made-up data, not a domain's payload.
pytestmark = pytest.mark.synthetic_events

SEEDS = Path("/work/shared/seeds")
NAME = r"[a-z_]+\.[a-z_]+"


class Boom(Exception):
    pass


# -- emit -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_raises_and_writes_nothing():
    store = make_store()
    with pytest.raises(EventOutsideTransaction):
        emit(store=store, event_type="customer.created", data={"id": 1})
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_emit_inside_a_committed_transaction_writes_one_row():
    store = make_store()
    other = make_store()
    with transaction.atomic():
        event = emit(store=store, event_type="customer.created",
                     data={"customer_id": 7, "email": "player@example.com"})
    row = Event.objects.get()
    assert row.pk == event.pk
    assert (row.store, row.event_type) == (store, "customer.created")
    assert row.data == {"customer_id": 7, "email": "player@example.com"}
    assert row.dispatched_at is None
    assert not Event.objects.filter(store=other).exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_event_and_no_change():
    store = make_store(name="Before")
    with pytest.raises(Boom), transaction.atomic():
        Store.objects.filter(pk=store.pk).update(name="After")
        emit(store=store, event_type="product.updated", data={"id": 1})
        raise Boom
    assert not Event.objects.exists()
    store.refresh_from_db()
    assert store.name == "Before"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_drops_only_its_own_event():
    store = make_store()
    with transaction.atomic():
        emit(store=store, event_type="product.created", data={"id": 1})
        with pytest.raises(Boom), transaction.atomic():
            emit(store=store, event_type="product.deleted", data={"id": 1})
            raise Boom
    assert list(Event.objects.values_list("event_type", flat=True)) == ["product.created"]


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", ["order.paid", "", "ORDER.RECEIVED", "order.received "])
def test_an_unknown_event_type_raises_and_writes_nothing(event_type):
    store = make_store()
    with pytest.raises(ValueError, match="unknown event type"):
        emit(store=store, event_type=event_type, data={})
    assert not Event.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", sorted(LEGACY_ALIASES))
def test_legacy_event_names_are_accepted(event_type):
    store = make_store()
    emit(store=store, event_type=event_type, data={"order_id": 1})
    assert Event.objects.get().event_type == event_type


@pytest.mark.django_db
def test_money_and_timestamps_are_stored_as_json_strings():
    store = make_store()
    when = datetime(2025, 1, 20, 14, 30, tzinfo=UTC)
    emit(store=store, event_type="order.received",
         data={"total": Decimal("29.99"), "paid_at": when, "items": [{"qty": 1}]})
    data = Event.objects.get().data
    assert data["total"] == "29.99"
    assert isinstance(data["paid_at"], str) and data["paid_at"].startswith("2025-01-20T14:30")
    assert data["items"] == [{"qty": 1}]


@pytest.mark.django_db
def test_data_that_cannot_be_serialised_fails_the_write_not_the_worker():
    store = make_store()
    with pytest.raises(TypeError):
        emit(store=store, event_type="order.received", data={"oops": object()})
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_emit_does_not_share_the_callers_dict():
    store = make_store()
    data = {"tags": ["a"]}
    emit(store=store, event_type="customer.created", data=data)
    data["tags"].append("b")
    assert Event.objects.get().data == {"tags": ["a"]}


# -- the catalogue against seed 002 ---------------------------------------------------------


def _seed_002() -> str:
    (path,) = SEEDS.glob("002_*.txt")
    return path.read_text(encoding="utf-8")


def _section(text: str, start: str, end: str) -> list[str]:
    body = text.split(f"\n{start}\n", 1)[1].split(f"\n{end}\n", 1)[0]
    return [line.strip() for line in body.splitlines() if line.strip()]


def _seed_event_names() -> list[str]:
    lines = _section(_seed_002(), "Event Summary", "Testing Webhooks")
    return [m.group(0) for line in lines if (m := re.match(NAME, line))]


def _seed_legacy_aliases() -> dict[str, str]:
    # Rows run together ("purchase.completedorder.receivedSame payload structure"); the
    # recommended event is one of the seed's 17 names, which splits each row unambiguously.
    recommended = "|".join(re.escape(name) for name in _seed_event_names())
    lines = _section(_seed_002(), "Legacy Events", "Discord Webhook Format")
    return {m.group(1): m.group(2) for line in lines
            if (m := re.match(rf"({NAME}?)({recommended})[A-Z]", line))}


def test_the_seed_parser_finds_what_the_seed_says():
    # Guards the parsing below: the seed names 17 event types and 4 legacy events.
    assert len(_seed_event_names()) == 17
    assert len(_seed_legacy_aliases()) == 4


def test_the_catalogue_lists_exactly_the_17_event_types_of_seed_002():
    seed = _seed_event_names()
    assert len(set(seed)) == 17
    assert set(EVENT_TYPES) == set(seed)
    examples = set(re.findall(rf'"event_type": "({NAME})"', _seed_002()))
    assert examples == set(seed)


def test_the_legacy_aliases_are_exactly_those_of_seed_002():
    assert _seed_legacy_aliases() == LEGACY_ALIASES
    assert set(LEGACY_ALIASES.values()) <= set(EVENT_TYPES)
    assert not set(LEGACY_ALIASES) & set(EVENT_TYPES)


def test_all_event_names_are_the_types_plus_the_aliases():
    assert set(EVENT_TYPES) | set(LEGACY_ALIASES) == ALL_EVENT_NAMES
    assert len(ALL_EVENT_NAMES) == 21
    assert all(is_known(name) for name in ALL_EVENT_NAMES)
    assert all(is_legacy(name) == (name in LEGACY_ALIASES) for name in ALL_EVENT_NAMES)
    assert not is_known("order.paid")


def test_categories_match_the_seeds_event_categories_table():
    lines = _section(_seed_002(), "Event Categories", "Webhook Payload Structure")
    assert sorted(name for names in CATEGORIES.values() for name in names) == sorted(EVENT_TYPES)
    for category, names in CATEGORIES.items():
        (line,) = [line for line in lines if line.startswith(category)]
        found = [name for name in EVENT_TYPES if re.search(rf"(?<![a-z_.]){re.escape(name)}",
                                                           line[len(category):])]
        assert sorted(found) == sorted(names), category


def test_every_event_type_has_a_description():
    assert all(description.strip() for description in EVENT_TYPES.values())
