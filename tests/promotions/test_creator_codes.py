"""Creator codes: entered at checkout, reported per creator and period, exported."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.errors import ServiceError
from shopkeep.orders.creator_report import creator_report
from shopkeep.orders.models import Order
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.promotions.creators import creator_code_save
from shopkeep.promotions.models import CreatorCode
from shopkeep.stores.models import AuditLog, Role
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import add_member, make_token, owner_of
from tests.promotions.helpers import owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="target", name="Target Store")


@pytest.fixture
def product(store):
    return make_product(store, price="10.00")


def _creator(store, code="NOTCH", share="10"):
    return creator_code_save(store=store, actor=owner(store), code=code, name="Notch",
                             share_percent=share)


def test_a_code_at_checkout_is_recorded_and_reported_with_the_share(
        store, product, django_capture_on_commit_callbacks):
    _creator(store)
    first = paid_order(store, product, capture=django_capture_on_commit_callbacks,
                       creator_code="notch", quantity=2)
    assert first.creator_code == "NOTCH"
    paid_order(store, product, capture=django_capture_on_commit_callbacks,
               creator_code="NOTCH")
    paid_order(store, product, capture=django_capture_on_commit_callbacks)  # no code
    refund = refund_request(store=store, actor=owner(store), order=first, amount="5.00")
    refund_execute(refund_id=refund.pk)
    (line,) = creator_report(store=store)
    assert (line.code, line.orders, line.revenue, line.share) == (
        "NOTCH", 2, Decimal("25.00"), Decimal("2.50"))
    later = creator_report(store=store, since=timezone.now() + timedelta(minutes=1))
    assert [(x.code, x.orders) for x in later] == [("NOTCH", 0)]


def test_an_unknown_or_foreign_code_is_refused_and_writes_nothing(store, product):
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import order_create
    from tests.commerce import buyer

    _creator(make_shop(), "THEIRS")
    with pytest.raises(ServiceError) as exc:
        order_create(store=store, lines=[Line(product.pk, 1)], customer=buyer(),
                     creator_code="THEIRS")
    assert exc.value.code == "creator_code_unknown" and not Order.objects.exists()


@pytest.mark.parametrize(("fields", "code"), [
    ({"code": "x"}, "invalid_code"), ({"code": "A B!"}, "invalid_code"),
    ({"share_percent": "101"}, "invalid_share"), ({"share_percent": "abc"}, "invalid_share"),
    ({"name": ""}, "invalid_name")])
def test_hostile_creator_input_is_refused(store, fields, code):
    data = {"code": "GOOD", "name": "Good", "share_percent": "5", **fields}
    with pytest.raises(ServiceError) as error:
        creator_code_save(store=store, actor=owner(store), **data)
    assert error.value.code == code and not CreatorCode.objects.exists()


def test_the_dashboard_report_and_csv_export(store, product,
                                             django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(owner_of(store))
    url = reverse("dashboard:creator_codes", args=[store.slug])
    response = client.post(url, {"code": "=cmd", "name": "x", "share_percent": "1"})
    assert response.status_code == 400  # "=" is not allowed in a code
    client.post(url, {"code": "notch", "name": "=HYPERLINK(1)", "share_percent": "10",
                      "is_active": "on"})
    paid_order(store, product, capture=django_capture_on_commit_callbacks,
               creator_code="NOTCH")
    html = client.get(url).content.decode()
    assert "NOTCH" in html and "10.00 USD" in html
    csv = client.get(url, {"format": "csv"}).content.decode()
    assert csv.splitlines()[1] == "NOTCH,'=HYPERLINK(1),1,10.00,10.00,1.00"


def test_the_api_lists_codes_and_reports(client, store, product,
                                         django_capture_on_commit_callbacks):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(store, ['promotions:write'])[1]}"}
    created = client.post("/api/v1/creator-codes", {"code": "jeb", "name": "Jeb",
                                                    "share_percent": "5"},
                          content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["code"] == "JEB"
    paid_order(store, product, capture=django_capture_on_commit_callbacks, creator_code="jeb")
    report = client.get("/api/v1/creator-codes/report", **auth).json()
    assert report == [{"code": "JEB", "name": "Jeb", "orders": 1, "revenue": "10.00",
                       "share_percent": "5.00", "share": "0.50"}]


def test_outsiders_and_support_members_change_nothing(client, store):
    creator = _creator(store)
    outsider_auth = {"HTTP_AUTHORIZATION":
                     f"Bearer {make_token(make_shop(), ['promotions:write'])[1]}"}
    assert client.get("/api/v1/creator-codes", **outsider_auth).json()["items"] == []
    assert client.get("/api/v1/creator-codes/report", **outsider_auth).json() == []
    assert client.delete(f"/api/v1/creator-codes/{creator.pk}",
                         **outsider_auth).status_code == 404
    outsider = Client()
    outsider.force_login(owner_of(make_shop(slug="outside")))
    before = (CreatorCode.objects.count(), AuditLog.objects.count())
    url = reverse("dashboard:creator_codes", args=[store.slug])
    for call in (outsider.get, outsider.post):
        response = call(url, {"code": "HACK", "name": "x"})
        assert response.status_code == 404 and b"Target Store" not in response.content
    assert (CreatorCode.objects.count(), AuditLog.objects.count()) == before
    support = Client()
    support.force_login(add_member(store, Role.SUPPORT).user)
    before = (CreatorCode.objects.count(), AuditLog.objects.count())
    assert support.post(url, {"code": "HACK", "name": "x"}).status_code == 403
    assert (CreatorCode.objects.count(), AuditLog.objects.count()) == before
