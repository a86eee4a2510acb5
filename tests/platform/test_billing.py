"""Plans and billing through the platform's Stripe account (Checkout in subscription mode,
the customer portal, webhooks), limits in the services, and billing off for self-hosting."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.delivery.models import GameServer
from shopkeep.platform.models import PlatformInvoice, PlatformStripeEvent
from shopkeep.stores.audit import Actor
from shopkeep.stores.limits import PlanLimitReached
from shopkeep.stores.models import AuditLog, Role, Store, StoreBilling
from tests.delivery.conftest import add_server
from tests.factories import add_member, make_store, owner_of
from tests.platform.conftest import post_event
from tests.platform.tasks_helper import run_queued_tasks

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _subscribe(store, billing, interval="month"):
    """The owner picks Growth, pays on Stripe's page, and Stripe's events arrive."""
    fake = billing["fake"]
    response = _client(owner_of(store)).post(
        reverse("dashboard:plan_checkout", args=[store.slug]),
        {"plan": "growth", "interval": interval})
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_")
    session_id = response["Location"].rsplit("/", 1)[1]
    events = fake.complete_session(session_id)
    for event in events:
        assert post_event(event).status_code == 200
    return events


def test_billing_off_keeps_every_feature_and_no_limits(settings):
    settings.SHOPKEEP_PLATFORM_BILLING = "off"
    store = make_store(slug="selfhosted")
    for name in ("One", "Two", "Three"):
        add_server(store, name)
    assert GameServer.objects.filter(store=store).count() == 3
    page = _client(owner_of(store)).get(reverse("dashboard:plan", args=[store.slug]))
    assert b'data-testid="billing-off"' in page.content


def test_the_default_plan_limits_servers_with_a_clear_message(billing):
    store = make_store(slug="shop")
    add_server(store, "One")
    with pytest.raises(PlanLimitReached) as refused:
        add_server(store, "Two")
    assert refused.value.status == 402
    assert "The Free plan includes 1 game servers and this store has 1" in refused.value.message
    assert GameServer.objects.filter(store=store).count() == 1


def test_checkout_subscription_activates_the_plan_and_records_the_invoice(billing,
                                                                           mailoutbox):
    store = make_store(slug="shop")
    _subscribe(store, billing)
    account = StoreBilling.objects.get(store=store)
    assert (account.status, account.plan.key, account.interval) == ("active", "growth",
                                                                     "month")
    assert account.stripe_customer_id.startswith("cus_")
    assert Store.objects.get(pk=store.pk).plan == "growth"  # the support SLA follows
    [invoice] = PlatformInvoice.objects.filter(store=store)
    assert (invoice.amount_paid, invoice.status) == (1900, "paid")
    assert invoice.hosted_invoice_url.startswith("https://invoice.stripe.com/")
    assert invoice.invoice_pdf.endswith("/pdf")
    page = _client(owner_of(store)).get(reverse("dashboard:plan", args=[store.slug]))
    html = page.content.decode()
    assert invoice.invoice_pdf in html and "19.00 USD" in html
    add_server(store, "One")
    add_server(store, "Two")  # Growth allows five
    run_queued_tasks()
    assert any("Receipt" in m.subject and "19.00 USD" in m.body for m in mailoutbox)
    request = next(r for r in billing["fake"].requests if r["path"] == "/v1/checkout/sessions")
    assert request["params"]["mode"] == "subscription"
    assert request["params"]["line_items"][0]["price"] == billing["growth"].stripe_price_month


def test_a_repeated_or_badly_signed_event_changes_nothing(billing):
    store = make_store(slug="shop")
    events = _subscribe(store, billing)
    assert post_event(events[-1]).json()["outcome"] == "duplicate"
    assert PlatformInvoice.objects.count() == 1
    bad = post_event(events[0], secret="whsec_wrong")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_signature"
    assert PlatformStripeEvent.objects.count() == len(events)


def test_downgrade_in_the_portal_is_explained_and_deletes_nothing(billing):
    store = make_store(slug="shop")
    events = _subscribe(store, billing)
    for name in ("One", "Two", "Three"):
        add_server(store, name)
    portal = _client(owner_of(store)).post(reverse("dashboard:plan_portal", args=[store.slug]))
    assert portal["Location"].startswith("https://billing.stripe.com/p/session/")
    fake = billing["fake"]
    sub_id = StoreBilling.objects.get(store=store).stripe_subscription_id
    cheap = fake.add_price(500, interval="month", product="Starter")
    billing["free"].__class__.objects.create(key="starter", name="Starter", sla_tier="starter",
                                             price_month="5.00", max_servers=1,
                                             stripe_price_month=cheap, sort=1)
    for event in fake.change_plan_in_portal(sub_id, cheap):
        assert post_event(event).status_code == 200
    account = StoreBilling.objects.get(store=store)
    assert account.plan.key == "starter"
    assert GameServer.objects.filter(store=store).count() == 3  # nothing deleted
    page = _client(owner_of(store)).get(reverse("dashboard:plan", args=[store.slug]))
    assert "over the limit" in page.content.decode()
    with pytest.raises(PlanLimitReached):
        add_server(store, "Four")
    assert events


def test_cancel_at_period_end_then_stripe_ends_it(billing, mailoutbox):
    store = make_store(slug="shop")
    _subscribe(store, billing)
    owner = _client(owner_of(store))
    owner.post(reverse("dashboard:plan_cancel", args=[store.slug]))
    account = StoreBilling.objects.get(store=store)
    assert account.cancel_at_period_end is True and account.status == "active"
    for event in billing["fake"].cancel_in_dashboard(account.stripe_subscription_id):
        post_event(event)
    account.refresh_from_db()
    assert account.status == "canceled"
    assert Store.objects.get(pk=store.pk).plan == "free"
    run_queued_tasks()
    assert any("subscription ended" in m.subject for m in mailoutbox)


def test_billing_email_goes_to_stripe_and_receives_the_mails(billing):
    store = make_store(slug="shop")
    _subscribe(store, billing)
    _client(owner_of(store)).post(reverse("dashboard:plan_email", args=[store.slug]),
                                  {"billing_email": "Accounts@Example.com"})
    account = StoreBilling.objects.get(store=store)
    assert account.billing_email == "accounts@example.com"
    run_queued_tasks()
    assert billing["fake"].objects[account.stripe_customer_id]["email"] == \
        "accounts@example.com"


def test_an_event_naming_a_store_with_another_customer_is_ignored(billing):
    store, other = make_store(slug="shop"), make_store(slug="other")
    _subscribe(store, billing)
    fake = billing["fake"]
    customer = StoreBilling.objects.get(store=store).stripe_customer_id
    forged = fake.event("customer.subscription.updated", {
        "id": "sub_forged", "object": "subscription", "status": "active",
        "customer": "cus_someoneelse", "metadata": {"store_id": store.public_id},
        "cancel_at_period_end": False, "items": {"data": [{"price": {
            "id": billing["growth"].stripe_price_year}, "current_period_end": 1}]}})
    post_event(forged)
    account = StoreBilling.objects.get(store=store)
    assert account.stripe_customer_id == customer and account.interval == "month"
    assert not StoreBilling.objects.filter(store=other, status="active").exists()


def test_outsiders_and_non_owners_cannot_touch_billing(billing):
    store, other = make_store(slug="shop"), make_store(slug="other")
    _subscribe(store, billing)
    before = list(StoreBilling.objects.values_list("status", "cancel_at_period_end",
                                                   "billing_email"))
    admin = add_member(store, Role.ADMIN).user
    requests = len(billing["fake"].requests)
    for user, status in ((owner_of(other), 404), (admin, 403)):
        client = _client(user)
        assert client.get(reverse("dashboard:plan", args=[store.slug])).status_code == status
        for name, data in (("plan_checkout", {"plan": "growth", "interval": "month"}),
                           ("plan_portal", {}), ("plan_cancel", {}),
                           ("plan_email", {"billing_email": "evil@example.com"})):
            assert client.post(reverse(f"dashboard:{name}", args=[store.slug]), data
                               ).status_code == status
    assert list(StoreBilling.objects.values_list("status", "cancel_at_period_end",
                                                 "billing_email")) == before
    assert len(billing["fake"].requests) == requests  # nothing reached Stripe
    assert not AuditLog.objects.filter(actor_user=admin).exists()


def test_a_second_checkout_is_refused_while_subscribed(billing):
    store = make_store(slug="shop")
    _subscribe(store, billing)
    again = _client(owner_of(store)).post(
        reverse("dashboard:plan_checkout", args=[store.slug]),
        {"plan": "growth", "interval": "year"}, follow=True)
    assert "change the plan in the billing portal" in again.content.decode()
    assert Actor  # the audit actor type is part of the services' signature
