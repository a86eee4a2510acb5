"""What receivers get: the envelope, each event's data against its schema, legacy names, test
sends. Every JSON body the receiver sees is also validated by the ``receiver`` fixture."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from django.db import transaction

from shopkeep.events.catalogue import EVENT_TYPES, LEGACY_ALIASES
from shopkeep.events.models import Event
from shopkeep.events.services import emit
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.stores.audit import Actor
from shopkeep.webhooks.models import WebhookDelivery
from shopkeep.webhooks.services import endpoint_create, webhook_test_send
from tests.commerce import make_product, paid_order
from tests.factories import owner_of
from tests.webhooks import make_schemas
from tests.webhooks.conftest import SCHEMAS, dispatch, schema_for, validate_payload

pytestmark = pytest.mark.django_db

EXAMPLES = json.loads(make_schemas.SEED.read_text())
EXAMPLES.pop("_source")
ALL_NAMES = [*EVENT_TYPES, *LEGACY_ALIASES]


def _endpoint(store, url, **kwargs):
    kwargs.setdefault("events", [])
    return endpoint_create(store=store, actor=Actor.system(), url=url, **kwargs)


def _emit(store, event_type, data):
    with transaction.atomic():
        return emit(store=store, event_type=event_type, data=data)


def _received(receiver, path="/hook") -> dict[str, list[dict]]:
    by_type: dict[str, list[dict]] = {}
    for request in receiver.on(path):
        payload = json.loads(request.body)
        by_type.setdefault(payload["event_type"], []).append(payload)
    return by_type


def test_the_schema_files_are_exactly_what_the_seed_derives():
    built = make_schemas.build()
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(built) == sorted(ALL_NAMES)
    for event_type, schema in built.items():
        assert (SCHEMAS / f"{event_type}.json").read_text() == make_schemas.render(schema)


@pytest.mark.parametrize("event_type", list(EVENT_TYPES))
def test_each_seed_example_passes_its_schema_and_a_changed_one_fails(event_type):
    payload = {"id": "wh_del_abc123", "event_type": event_type,
               "created_at": "2025-01-20T14:30:00.000000Z", "data": EXAMPLES[event_type]}
    validate_payload(json.dumps(payload))
    missing = copy.deepcopy(payload)
    missing["data"].pop(next(iter(missing["data"])))
    extra = copy.deepcopy(payload)
    extra["data"]["surprise"] = 1
    for bad in (missing, extra, {**payload, "created_at": "2025-01-20 14:30"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema_for(event_type))


def test_money_must_be_a_decimal_string_and_dispute_amounts_integer_cents():
    order = {"id": "wh_del_a", "event_type": "order.received",
             "created_at": "2025-01-20T14:30:00.000000Z",
             "data": {**EXAMPLES["order.received"], "total": 29.99}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(order, schema_for("order.received"))
    dispute = {"id": "wh_del_a", "event_type": "dispute.created",
               "created_at": "2025-01-20T14:30:00.000000Z",
               "data": {**EXAMPLES["dispute.created"], "amount": "29.99"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(dispute, schema_for("dispute.created"))


def test_every_event_type_reaches_a_subscriber_as_the_seed_describes(store, receiver):
    """Delivery and ticket events come from other apps: any Event row fans out the same way."""
    _endpoint(store, receiver.url(), all_events=True)
    for event_type in EVENT_TYPES:
        _emit(store, event_type, EXAMPLES[event_type])
    dispatch()
    got = _received(receiver)
    assert sorted(got) == sorted(EVENT_TYPES)
    for event_type, payloads in got.items():
        (payload,) = payloads
        assert payload["data"] == EXAMPLES[event_type]
        assert set(payload) == {"id", "event_type", "created_at", "data"}
        assert payload["id"].startswith("wh_del_")
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_a_real_purchase_and_refund_produce_valid_payloads(store, receiver,
                                                           django_capture_on_commit_callbacks):
    _endpoint(store, receiver.url(), all_events=True, events=list(LEGACY_ALIASES))
    product = make_product(store)
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks,
                       billing_address={"line1": "1 Main St", "city": "Springfield",
                                        "state": "IL", "postal_code": "62701",
                                        "country": "US"})
    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=order,
                            amount="10.00", reason="Customer request")
    refund_execute(refund_id=refund.pk)
    dispatch()
    got = _received(receiver)
    # The all-events box covers current names; legacy ones come because they were ticked.
    assert {"product.created", "customer.created", "order.received", "order.refunded",
            "order.created", "purchase.completed", "order.updated"} <= set(got)
    received = got["order.received"][0]["data"]
    assert (received["order_number"], received["total"]) == (order.order_number, "29.99")
    assert got["order.refunded"][0]["data"]["refund_amount"] == "10.00"
    # purchase.completed is order.received under its old name: same data.
    assert got["purchase.completed"][0]["data"] == received


def test_a_legacy_subscriber_gets_only_the_legacy_name(store, receiver):
    _endpoint(store, receiver.url("/legacy"), events=["order.created"])
    _endpoint(store, receiver.url("/current"), events=["order.received"])
    _endpoint(store, receiver.url("/all"), all_events=True)
    data = EXAMPLES["order.received"]
    _emit(store, "order.created", {**data, "paid_at": None, "status": "pending",
                                   "payment_status": "pending"})
    _emit(store, "order.received", data)
    _emit(store, "purchase.completed", data)
    dispatch()
    assert list(_received(receiver, "/legacy")) == ["order.created"]
    assert list(_received(receiver, "/current")) == ["order.received"]
    assert list(_received(receiver, "/all")) == ["order.received"]


def test_only_active_subscribed_endpoints_of_the_events_store_get_deliveries(store, receiver):
    from tests.factories import make_store

    _endpoint(store, receiver.url("/products"), events=["product.created"])
    off = _endpoint(store, receiver.url("/off"), all_events=True)
    off.is_active = False
    off.save()
    _endpoint(make_store(), receiver.url("/other-store"), all_events=True)
    _emit(store, "product.created", EXAMPLES["product.created"])
    _emit(store, "customer.created", EXAMPLES["customer.created"])
    dispatch()
    assert list(_received(receiver, "/products")) == ["product.created"]
    assert receiver.on("/off") == [] and receiver.on("/other-store") == []
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("event_type", ALL_NAMES)
def test_a_test_send_carries_test_true_and_the_sample_validates(store, receiver, event_type):
    endpoint = _endpoint(store, receiver.url(), events=["product.created"])
    delivery = webhook_test_send(store=store, actor=Actor.system(), endpoint=endpoint,
                                 event_type=event_type)
    assert receiver.requests == []  # queued, not sent in the request
    dispatch()
    (request,) = receiver.requests
    payload = validate_payload(request.body)
    assert payload["test"] is True and payload["id"] == delivery.public_id
    assert payload["event_type"] == event_type
    if "tenant_id" in payload["data"]:
        assert payload["data"]["tenant_id"] == store.public_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.is_test, delivery.attempts.count()) == ("succeeded", True,
                                                                              1)


def test_every_retry_sends_the_same_id_and_body(store, receiver, clock):
    _endpoint(store, receiver.url(), events=["product.deleted"])
    receiver.respond("/hook", 500, 500)
    _emit(store, "product.deleted", EXAMPLES["product.deleted"])
    dispatch(clock)          # first attempt and the immediate retry fail
    clock.advance(seconds=7)
    dispatch(clock)          # the 5 s retry succeeds
    first, second, third = receiver.requests
    assert first.body == second.body == third.body
    assert {r.header("X-Webhook-ID") for r in receiver.requests} == {
        json.loads(first.body)["id"]}
    assert WebhookDelivery.objects.get().status == "succeeded"
