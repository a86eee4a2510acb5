"""Analytics totals against fixed facts: paid orders, refunds (by the day they settled),
two currencies never added together, test orders, buckets of the store's local days across
a DST change, new vs returning buyers, conversion, delivery time; the page and its charts
(server-side SVG, no script) and outsiders."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from shopkeep.customers.models import Customer
from shopkeep.dashboard.analytics import bucket_start, report
from shopkeep.disputes.models import Dispute
from shopkeep.orders.models import Order, OrderItem, Refund
from shopkeep.stores.models import Store
from tests.commerce import make_product

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
# "Now" for every report: 15 March 2026, noon in New York (DST began on 8 March).
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=NY)
_n = iter(range(1, 10_000))


@pytest.fixture
def live(shop) -> Store:
    Store.objects.filter(pk=shop.pk).update(time_zone="America/New_York", test_mode=False)
    shop.refresh_from_db()
    return shop


def _customer(store, email):
    return Customer.objects.create(store=store, email=email, referral_code=f"R{next(_n):07d}")


def _order(store, customer, product, total, paid_at, *, currency="USD", test=False,
           created_at=None, delivered_after=None, quantity=1):
    n = next(_n)
    order = Order.objects.create(
        store=store, customer=customer, order_number=f"ORD-T{n:08d}", access_key=f"k{n}",
        customer_email=customer.email, currency=currency, subtotal=Decimal(total),
        total=Decimal(total), payment_gateway="sandbox", is_test_order=test,
        paid_at=paid_at, status="completed" if paid_at else "pending",
        created_at=created_at or paid_at or NOW - timedelta(days=1))
    OrderItem.objects.create(
        store=store, order=order, product=product, product_name=product.name,
        product_type="one_time", quantity=quantity, unit_price=Decimal(total) / quantity,
        total=Decimal(total),
        delivered_at=paid_at + delivered_after if paid_at and delivered_after else None,
        delivery_status="delivered" if delivered_after else "pending")
    return order


def _refund(order, amount, settled_at):
    Refund.objects.create(store=order.store, order=order, amount=Decimal(amount),
                          status="succeeded", requested_by="owner", settled_at=settled_at,
                          created_at=settled_at)
    Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal(amount))


@pytest.fixture
def facts(live):
    vip = make_product(live, name="VIP Rank")
    key = make_product(live, name="Crate Key")
    ann, bob, cy = (_customer(live, f"{n}@example.com") for n in ("ann", "bob", "cy"))
    # Ann bought before the period too: a returning buyer in it.
    _order(live, ann, vip, "10.00", datetime(2025, 12, 1, 10, tzinfo=NY))
    # 23:30 local on 14 March is 03:30 UTC on the 15th: it belongs to the 14th.
    _order(live, ann, vip, "20.00", datetime(2026, 3, 14, 23, 30, tzinfo=NY),
           delivered_after=timedelta(seconds=30))
    first_bob = _order(live, bob, key, "5.00", datetime(2026, 3, 14, 9, tzinfo=NY),
                       delivered_after=timedelta(seconds=90), quantity=5)
    # A EUR order (the store changed currency once): never added to USD.
    _order(live, cy, vip, "7.50", datetime(2026, 3, 10, 12, tzinfo=NY), currency="EUR")
    # Not money: a test order and an unpaid checkout.
    _order(live, cy, vip, "99.00", datetime(2026, 3, 14, 12, tzinfo=NY), test=True)
    _order(live, bob, vip, "20.00", None, created_at=datetime(2026, 3, 13, 12, tzinfo=NY))
    # Bob's 5.00 is refunded 2.00 on the 15th (the refund day, not the order day).
    _refund(first_bob, "2.00", datetime(2026, 3, 15, 8, tzinfo=NY))
    Dispute.objects.create(store=live, order=first_bob, payment_gateway="sandbox",
                           gateway_dispute_id="dp_1", amount_minor=500, currency="USD",
                           reason="fraudulent", created_at=datetime(2026, 3, 15, 9, tzinfo=NY))
    return {"store": live, "vip": vip, "key": key}


def _bucket(rep, day):
    return next(b for b in rep.buckets if b.start == day)


def test_totals_per_currency_net_of_refunds_without_test_orders(facts):
    rep = report(store=facts["store"], period="30d", grain="day", now=NOW)
    assert rep.currencies == ["EUR", "USD"]
    assert rep.gross == {"USD": Decimal("25.00"), "EUR": Decimal("7.50")}
    assert rep.refunds == {"USD": Decimal("2.00")}
    assert rep.net_by_currency == {"EUR": Decimal("7.50"), "USD": Decimal("23.00")}
    assert rep.orders_paid == 3 and rep.orders_started == 4
    assert rep.conversion == pytest.approx(3 / 4)
    assert rep.refund_rate == pytest.approx(1 / 3) and rep.dispute_rate == pytest.approx(1 / 3)


def test_days_are_the_stores_local_days(facts):
    rep = report(store=facts["store"], period="30d", grain="day", now=NOW)
    d14 = _bucket(rep, datetime(2026, 3, 14).date())
    assert d14.gross == {"USD": Decimal("25.00")} and d14.orders == 2
    d15 = _bucket(rep, datetime(2026, 3, 15).date())
    assert d15.gross == {} and d15.refunds == {"USD": Decimal("2.00")}
    assert d15.net("USD") == Decimal("-2.00")
    assert len(rep.buckets) == 30 and rep.buckets[-1].start == NOW.date()


def test_the_same_moment_falls_on_another_day_in_another_zone(facts):
    Store.objects.filter(pk=facts["store"].pk).update(time_zone="UTC")
    facts["store"].refresh_from_db()
    rep = report(store=facts["store"], period="30d", grain="day", now=NOW)
    assert _bucket(rep, datetime(2026, 3, 15).date()).gross == {"USD": Decimal("20.00")}


def test_new_and_returning_buyers(facts):
    rep = report(store=facts["store"], period="30d", grain="day", now=NOW)
    assert (rep.customers_new, rep.customers_returning) == (2, 1)  # bob and cy; ann
    d14 = _bucket(rep, datetime(2026, 3, 14).date())
    assert (d14.new_customers, d14.returning_customers) == (1, 1)


def test_weeks_start_on_monday_and_months_on_the_first(facts):
    weeks = report(store=facts["store"], period="30d", grain="week", now=NOW)
    assert all(b.start.weekday() == 0 for b in weeks.buckets)
    week = _bucket(weeks, bucket_start(datetime(2026, 3, 14).date(), "week"))
    assert week.gross == {"USD": Decimal("25.00"), "EUR": Decimal("7.50")}
    months = report(store=facts["store"], period="365d", grain="month", now=NOW)
    march = _bucket(months, datetime(2026, 3, 1).date())
    assert march.gross == {"USD": Decimal("25.00"), "EUR": Decimal("7.50")}
    december = _bucket(months, datetime(2025, 12, 1).date())
    assert december.gross == {"USD": Decimal("10.00")}
    assert sum(b.orders for b in months.buckets) == 4


def test_top_products_and_delivery_median(facts):
    rep = report(store=facts["store"], period="30d", grain="day", now=NOW)
    assert [(p.name, p.quantity) for p in rep.top_products] == [("VIP Rank", 2),
                                                                ("Crate Key", 5)]
    assert rep.top_products[0].revenue == {"USD": Decimal("20.00"), "EUR": Decimal("7.50")}
    assert rep.delivery_median_seconds == 60 and rep.delivery_items == 2


def test_a_store_in_test_mode_counts_only_its_test_orders(facts):
    Store.objects.filter(pk=facts["store"].pk).update(test_mode=True)
    facts["store"].refresh_from_db()
    rep = report(store=facts["store"], period="30d", grain="day", now=NOW)
    assert rep.includes_test_orders and rep.gross == {"USD": Decimal("99.00")}
    assert rep.refunds == {}


def test_other_stores_orders_never_count(facts):
    from tests.factories import make_store

    other = make_store(slug="other-store")
    Store.objects.filter(pk=other.pk).update(test_mode=False)
    _order(other, _customer(other, "z@example.com"), make_product(other), "500.00",
           datetime(2026, 3, 14, 12, tzinfo=NY))
    rep = report(store=facts["store"], period="30d", grain="day", now=NOW)
    assert rep.gross["USD"] == Decimal("25.00")


def test_page_renders_svg_charts_and_figures_without_script(as_owner, live):
    vip = make_product(live, name="VIP Rank")
    from django.utils import timezone

    _order(live, _customer(live, "a@example.com"), vip, "1234.50", timezone.now())
    page = as_owner.get(reverse("dashboard:analytics", args=[live.slug]) + "?period=7d")
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count("<svg") == 3 and "<script" not in body.split("<main", 1)[-1]
    assert "1,234.50 USD" in body and "America/New_York" in body
    assert "VIP Rank" in body


def test_unknown_period_and_grain_fall_back(as_owner, live):
    page = as_owner.get(reverse("dashboard:analytics", args=[live.slug]) +
                        "?period=9999d&grain=<script>")
    assert page.status_code == 200 and b"&lt;script&gt;" not in page.content


def test_support_may_read_outsider_gets_404(as_support, as_outsider, live):
    url = reverse("dashboard:analytics", args=[live.slug])
    assert as_support.get(url).status_code == 200
    assert as_outsider.get(url).status_code == 404


# -- store API -------------------------------------------------------------------------------

def _api(store, scopes):
    from django.test import Client

    from tests.factories import make_token

    _, raw = make_token(store, scopes)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_answers_the_same_figures_as_decimal_strings(live):
    from django.utils import timezone

    vip = make_product(live, name="VIP Rank")
    order = _order(live, _customer(live, "a@example.com"), vip, "30.00", timezone.now())
    _refund(order, "12.50", timezone.now())
    body = _api(live, ["orders:read"]).get("/api/v1/analytics?period=7d&grain=day").json()
    assert body["gross"] == {"USD": "30.00"} and body["refunds"] == {"USD": "12.50"}
    assert body["net"] == {"USD": "17.50"} and body["time_zone"] == "America/New_York"
    assert len(body["buckets"]) == 7 and body["orders_paid"] == 1


def test_api_outsider_sees_only_its_own_store_and_bad_input_is_422(live):
    from django.utils import timezone

    _order(live, _customer(live, "a@example.com"), make_product(live), "30.00", timezone.now())
    from tests.factories import make_store

    other = make_store(slug="other-store")
    client = _api(other, ["orders:read"])
    assert client.get("/api/v1/analytics").json()["orders_paid"] == 0
    assert client.get("/api/v1/analytics?period=9d").status_code == 422
    assert _api(live, ["products:read"]).get("/api/v1/analytics").status_code == 403
