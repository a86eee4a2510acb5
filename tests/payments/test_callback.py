"""The callback endpoint: signed notices only, replays answered and ignored, size-capped."""

from __future__ import annotations

import json
import time

import pytest
from django.utils import timezone

from shopkeep.events.models import Event
from shopkeep.payments.gateways.base import Notice
from shopkeep.payments.gateways.sandbox import notice_to_json, sign
from shopkeep.payments.models import GatewayEvent
from tests.commerce import make_product, make_shop, place_order

pytestmark = pytest.mark.django_db
URL = "/pay/callbacks/sandbox/"


@pytest.fixture
def order():
    store = make_shop()
    return place_order(store, make_product(store))


def _paid(order, event_id="evt_1") -> Notice:
    return Notice(event_id=event_id, kind="payment.succeeded", occurred_at=timezone.now(),
                  reference=order.order_number, payment_id="pi_test_1", amount_minor=2999,
                  currency="USD")


def _post(client, body: bytes, signature: str | None):
    headers = {} if signature is None else {"HTTP_SANDBOX_SIGNATURE": signature}
    return client.post(URL, data=body, content_type="application/json", **headers)


def _nothing_written(order) -> None:
    assert not GatewayEvent.objects.exists()
    assert not Event.objects.filter(event_type__in=["order.received",
                                                    "purchase.completed"]).exists()
    order.refresh_from_db()
    assert order.paid_at is None and order.payment_status == "pending"


def test_a_signed_notice_is_applied_and_its_replay_answered_but_ignored(client, order):
    body = notice_to_json(_paid(order))
    signature = sign(body, int(time.time()))
    first = _post(client, body, signature)
    assert first.status_code == 200
    assert first.json() == {"received": 1, "outcomes": [f"order {order.order_number} paid"]}
    order.refresh_from_db()
    assert order.payment_status == "paid"
    events = Event.objects.count()
    again = _post(client, body, signature)
    assert again.status_code == 200 and again.json()["outcomes"] == ["duplicate"]
    assert GatewayEvent.objects.count() == 1 and Event.objects.count() == events


@pytest.mark.parametrize("how", ["missing", "empty", "garbage", "tampered", "old", "future",
                                 "other key", "no v1"])
def test_bad_signatures_are_refused_with_400_and_write_nothing(client, order, how):
    body = notice_to_json(_paid(order))
    now = int(time.time())
    signature = {"missing": None, "empty": "", "garbage": "hello",
                 "tampered": sign(body + b" ", now),
                 "old": sign(body, now - 301), "future": sign(body, now + 3600),
                 "other key": f"t={now},v1={'0' * 64}", "no v1": f"t={now}"}[how]
    response = _post(client, body, signature)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_callback"
    _nothing_written(order)


def test_a_signature_just_inside_the_tolerance_is_accepted(client, order):
    body = notice_to_json(_paid(order))
    assert _post(client, body, sign(body, int(time.time()) - 250)).status_code == 200


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"event_id": "x", "bogus": 1}'])
def test_a_signed_but_malformed_notice_is_refused(client, order, body):
    response = _post(client, body, sign(body, int(time.time())))
    assert response.status_code == 400
    _nothing_written(order)


def test_a_signed_notice_of_an_unknown_kind_is_refused(client, order):
    data = json.loads(notice_to_json(_paid(order)))
    body = json.dumps({**data, "kind": "payment.teleported"}).encode()
    response = _post(client, body, sign(body, int(time.time())))
    assert response.status_code == 400
    _nothing_written(order)


@pytest.mark.parametrize("size", [256 * 1024 + 1, 2 * 1024 * 1024])
def test_bodies_over_256_kib_are_refused_with_413(client, order, size):
    body = b'{"pad": "' + b"x" * (size - 11) + b'"}'
    assert len(body) == size
    response = _post(client, body, sign(body, int(time.time())))
    assert response.status_code == 413
    _nothing_written(order)


def test_only_post_and_known_gateways(client, order):
    assert client.get(URL).status_code == 405
    body = notice_to_json(_paid(order))
    response = client.post("/pay/callbacks/nopay/", data=body, content_type="application/json",
                           HTTP_SANDBOX_SIGNATURE=sign(body, int(time.time())))
    assert response.status_code == 404
    _nothing_written(order)
