"""Operator-defined plans in the staff console, the billing panel next to Billing & Plans
tickets, and the demo's two plans."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.demo import DEMO_SECOND_SLUG, DEMO_SLUG, demo_seed
from shopkeep.stores.models import AuditLog, BillingPlan, Store, StoreBilling
from tests.factories import make_store, make_user, owner_of
from tests.platform.test_billing import _subscribe
from tests.support.conftest import ensure_guides, new_platform_ticket

pytestmark = pytest.mark.django_db
PLAN = {"key": "pro", "name": "Pro", "description": "", "sla_tier": "pro", "currency": "USD",
        "price_month": "49.00", "price_year": "490.00", "stripe_price_month": "price_x",
        "stripe_price_year": "", "trial_days": "7", "max_servers": "", "max_products": "",
        "max_members": "25", "max_webhook_endpoints": "", "sort": "3", "is_public": "on"}


def _staff() -> Client:
    client = Client()
    client.force_login(make_user(is_staff=True))
    return client


def test_staff_define_a_plan_with_unlimited_fields_and_an_audit_row():
    response = _staff().post(reverse("staff:plans"), PLAN)
    assert response.status_code == 302
    plan = BillingPlan.objects.get(key="pro")
    assert (plan.max_servers, plan.max_members, plan.trial_days) == (None, 25, 7)
    assert AuditLog.objects.filter(action="billing.plan_saved").count() == 1


def test_a_second_default_plan_replaces_the_first():
    client = _staff()
    client.post(reverse("staff:plans"), {**PLAN, "key": "a", "name": "A", "is_default": "on"})
    client.post(reverse("staff:plans"), {**PLAN, "key": "b", "name": "B", "is_default": "on"})
    assert list(BillingPlan.objects.filter(is_default=True).values_list("key", flat=True)) \
        == ["b"]


def test_store_owners_cannot_define_plans():
    client = Client()
    client.force_login(owner_of(make_store()))
    assert client.post(reverse("staff:plans"), PLAN).status_code == 404
    assert not BillingPlan.objects.exists()


def test_billing_tickets_show_plan_and_invoices_to_staff(billing):
    store = make_store(slug="shop")
    _subscribe(store, billing)
    ticket = new_platform_ticket(store, category="billing", subject="Invoice question")
    other = new_platform_ticket(store, category="technical")
    client = _staff()
    page = client.get(reverse("staff:ticket", args=[ticket.pk])).content.decode()
    assert 'data-testid="billing-panel"' in page and "Growth" in page
    assert "https://invoice.stripe.com/" in page
    assert b'data-testid="billing-panel"' not in client.get(
        reverse("staff:ticket", args=[other.pk])).content


def test_the_demo_has_two_plans_and_a_store_on_each():
    ensure_guides()
    demo_seed()
    demo_seed()  # idempotent
    assert set(BillingPlan.objects.values_list("key", flat=True)) == {"free", "growth"}
    first = StoreBilling.objects.get(store__slug=DEMO_SLUG)
    second = StoreBilling.objects.get(store__slug=DEMO_SECOND_SLUG)
    assert (first.plan.key, first.status) == ("growth", "active")
    assert second.plan.key == "free"
    assert Store.objects.get(slug=DEMO_SLUG).plan == "growth"
