"""Two requests with one Idempotency-Key at the same moment: the refund happens once."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from shopkeep.orders.models import Refund
from tests.commerce import make_product, make_shop
from tests.factories import make_token


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_refund_once():
    from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxSession
    from tests.commerce import place_order

    store = make_shop()
    order = place_order(store, make_product(store))
    session = SandboxSession.objects.get(reference=order.order_number)
    assert SandboxGateway().pay(session_id=session.pk, card_number=CARD_OK)[0]
    _, raw = make_token(store, ["orders:write"])
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            response = Client().post(
                f"/api/v1/orders/{order.pk}/refunds", data=json.dumps({"amount": "5.00"}),
                content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}",
                HTTP_IDEMPOTENCY_KEY="same-key")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Refund.objects.count() == 1
    assert set(statuses) <= {202, 409} and 202 in statuses
