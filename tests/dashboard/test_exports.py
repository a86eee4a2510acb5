"""Streamed CSV exports for a period in the store's time zone."""

from __future__ import annotations

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from shopkeep.customers.models import Customer
from shopkeep.orders.models import Order
from tests.commerce import make_product, paid_order

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def _today(store):
    from zoneinfo import ZoneInfo

    return timezone.localdate(timezone=ZoneInfo(store.time_zone)).isoformat()


def test_orders_export_streams_the_periods_orders(as_owner, shop,
                                                  django_capture_on_commit_callbacks):
    order = paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    day = _today(shop)
    response = as_owner.get("/dashboard/shop/exports/", {"kind": "orders", "start": day,
                                                         "end": day})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"shop-orders-{day.replace('-', '')}" in response["Content-Disposition"]
    rows = _csv(response)
    assert [r["order_number"] for r in rows] == [order.order_number]
    assert rows[0]["total"] == str(order.total)


def test_a_period_without_rows_gives_only_the_header(as_owner, shop,
                                                     django_capture_on_commit_callbacks):
    paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    response = as_owner.get("/dashboard/shop/exports/", {"kind": "payments",
                                                         "start": "2020-01-01",
                                                         "end": "2020-01-31"})
    assert _csv(response) == []


def test_a_formula_in_a_player_value_stays_text(as_owner, shop,
                                                django_capture_on_commit_callbacks):
    paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    Customer.objects.filter(store=shop).update(name="=HYPERLINK(\"http://evil\")")
    day = _today(shop)
    rows = _csv(as_owner.get("/dashboard/shop/exports/", {"kind": "customers", "start": day,
                                                          "end": day}))
    assert rows[0]["name"].startswith("'=HYPERLINK")


def test_bad_dates_get_the_form_again_and_no_file(as_owner, shop):
    response = as_owner.get("/dashboard/shop/exports/", {"kind": "orders",
                                                         "start": "2025-02-10",
                                                         "end": "2025-02-01"})
    assert response.status_code == 400
    assert b"The end date is before the start date." in response.content


def test_an_outsider_gets_404_and_no_rows(as_outsider, shop,
                                          django_capture_on_commit_callbacks):
    paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    day = _today(shop)
    response = as_outsider.get("/dashboard/shop/exports/", {"kind": "orders", "start": day,
                                                            "end": day})
    assert response.status_code == 404
    assert Order.objects.filter(store=shop).count() == 1
