"""PostgreSQL races of PayPal's capture: the buyer's return, the CHECKOUT.ORDER.APPROVED
capture in the worker and several deliveries of PAYMENT.CAPTURE.COMPLETED, all at once.
The order is paid once: one ``order.received``, one set of purchase commands."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from shopkeep.delivery.models import DeliveryCommand
from shopkeep.events.models import Event
from shopkeep.payments.models import PayPalConnection, PayPalEvent
from shopkeep.payments.paypal_worker import paypal_capture_apply
from tests.commerce import make_product, make_shop, place_order
from tests.delivery.conftest import add_server
from tests.payments.conftest import connect_paypal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(funcs) -> list:
    barrier = threading.Barrier(len(funcs))
    results: list = []

    def run(func) -> None:
        try:
            barrier.wait()
            results.append(func())
        except Exception as exc:  # the outcome is what the test judges
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in funcs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def approved(fake_paypal):
    store = make_shop()
    add_server(store)
    connect_paypal(store, fake_paypal)
    order = place_order(store, make_product(store, price="29.99"))
    fake_paypal.approve(order.gateway_session_id)
    return store, order


def test_return_worker_and_webhooks_racing_to_capture_pay_once(fake_paypal, approved):
    store, order = approved
    conn = PayPalConnection.objects.get(store=store)
    return_url = urlsplit(fake_paypal.objects[order.gateway_session_id]["_context"][
        "return_url"])
    return_path = f"{return_url.path}?{return_url.query}&token={order.gateway_session_id}"

    def buyer_returns():
        return Client().get(return_path).status_code

    def worker_captures():
        return paypal_capture_apply(connection_id=conn.pk,
                                    paypal_order_id=order.gateway_session_id)

    results = _race([buyer_returns, worker_captures, worker_captures, buyer_returns])
    assert not [r for r in results if isinstance(r, Exception)], results
    (capture,) = fake_paypal.captures_of(order.gateway_session_id)
    # PayPal's capture-completed event, delivered several times at once (PayPal retries).
    event = fake_paypal.capture_event(capture["id"])
    body = json.dumps(event).encode()
    headers = fake_paypal.headers_for(body, conn.webhook_id)
    meta = {f"HTTP_{k.replace('-', '_')}": v for k, v in headers.items()}

    def webhook():
        response = Client().post(f"/pay/paypal/{store.public_id}/webhook/", data=body,
                                 content_type="application/json", **meta)
        return response.status_code, response.json()["outcomes"]

    deliveries = _race([webhook] * 4)
    assert sorted(d[1][0] for d in deliveries) == ["already paid", "duplicate", "duplicate",
                                                   "duplicate"]
    order.refresh_from_db()
    assert order.payment_status == "paid" and order.gateway_payment_id == capture["id"]
    assert Event.objects.filter(event_type="order.received").count() == 1
    assert DeliveryCommand.objects.filter(order=order).count() == 1
    assert PayPalEvent.objects.filter(event_id=event["id"]).count() == 1
    assert len([r for r in fake_paypal.requests if r["path"].endswith("/capture")]) == 4


def test_two_deliveries_of_the_capture_event_alone_pay_once(fake_paypal, approved):
    store, order = approved
    conn = PayPalConnection.objects.get(store=store)
    capture = fake_paypal._capture(fake_paypal.objects[order.gateway_session_id])
    event = fake_paypal.capture_event(capture["id"])
    body = json.dumps(event).encode()
    meta = {f"HTTP_{k.replace('-', '_')}": v
            for k, v in fake_paypal.headers_for(body, conn.webhook_id).items()}

    def webhook():
        response = Client().post(f"/pay/paypal/{store.public_id}/webhook/", data=body,
                                 content_type="application/json", **meta)
        return response.json()["outcomes"]

    outcomes = _race([webhook, webhook])
    assert sorted(o[0] for o in outcomes) == ["duplicate", f"order {order.order_number} paid"]
    assert Event.objects.filter(event_type="order.received").count() == 1
    assert DeliveryCommand.objects.filter(order=order).count() == 1
