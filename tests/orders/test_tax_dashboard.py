"""Settings > Tax in the dashboard: settings, EU table, rates, roles and outsiders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.orders.models import TaxRate, TaxSettings
from shopkeep.orders.tax import tax_rate_set
from shopkeep.stores.models import AuditLog, Role
from tests.commerce import make_shop
from tests.factories import add_member, owner_of
from tests.promotions.helpers import owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="target", name="Target Store")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.slug, *args])


def test_an_owner_sets_tax_loads_the_eu_table_and_edits_a_rate(store):
    client = _client(owner_of(store))
    client.post(_url("tax_save", store), {"enabled": "on", "prices_include_tax": "on",
                                          "home_country": "de", "reverse_charge": "on"})
    row = TaxSettings.objects.get(store=store)
    assert (row.enabled, row.prices_include_tax, row.home_country) == (True, True, "DE")
    response = client.post(_url("tax_load_eu", store), follow=True)
    assert "27 EU VAT standard rates added" in response.content.decode()
    client.post(_url("tax", store), {"country": "DE", "rate": "7", "label": "MwSt"})
    assert TaxRate.objects.get(store=store, country="DE").rate == Decimal("7")
    bad = client.post(_url("tax", store), {"country": "Germany", "rate": "7", "label": "x"})
    assert bad.status_code == 400


def test_support_members_cannot_see_or_change_tax(store):
    support = _client(add_member(store, Role.SUPPORT).user)
    assert support.get(_url("tax", store)).status_code == 403
    assert support.post(_url("tax_load_eu", store)).status_code == 403
    assert not TaxRate.objects.exists()


@pytest.mark.parametrize("name", ["tax", "tax_save", "tax_load_eu", "tax_rate_delete"])
def test_an_outsider_gets_404_and_changes_nothing(store, name):
    rate = tax_rate_set(store=store, actor=owner(store), country="DE", rate="19")
    args = [rate.pk] if name == "tax_rate_delete" else []
    outsider = _client(owner_of(make_shop(slug="outside")))
    before = (TaxRate.objects.count(), TaxSettings.objects.count(), AuditLog.objects.count())
    for call in (outsider.get, outsider.post):
        response = call(_url(name, store, *args), {"enabled": "on", "country": "DE",
                                                   "rate": "1", "label": "x"})
        assert response.status_code in (404, 405)
        assert b"Target Store" not in response.content
    assert (TaxRate.objects.count(), TaxSettings.objects.count(),
            AuditLog.objects.count()) == before
