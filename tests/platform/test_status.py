"""/status: component states from internal signals and staff incidents, 90 days of history,
the JSON summary, the Atom feed, double opt-in subscriptions and the dashboard banner."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shopkeep.core.heartbeat import Beater
from shopkeep.delivery.models import DeliveryCommand, GameServer
from shopkeep.platform import status, views_status
from shopkeep.platform.models import Incident, State, StatusDay, StatusSubscriber
from shopkeep.platform.status_services import incident_create, incident_post_update, status_sample
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from tests.commerce import paid_order
from tests.delivery.conftest import world  # noqa: F401  (fixture)
from tests.factories import make_store, make_user, owner_of
from tests.platform.tasks_helper import run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(views_status, "CACHE_SECONDS", 0)
    monkeypatch.setattr(status, "ERRORS", status.ErrorWindow())


def _all_alive():
    for kind in ("worker", "dispatcher", "scheduler"):
        Beater(kind, f"{kind}:test").beat()


def states(**kwargs) -> dict[str, str]:
    return {c.key: c.state for c in status.compute(**kwargs)[0]}


def _incident(**overrides) -> Incident:
    data = {"actor": Actor.system(), "kind": "incident", "title": "Checkout errors",
            "impact": "partial_outage", "components": ["checkout"],
            "status_value": "investigating", "body": "We are looking into failed payments."}
    data.update(overrides)
    return incident_create(**data)


def test_everything_is_operational_with_live_processes_and_empty_queues():
    _all_alive()
    assert set(states().values()) == {State.OPERATIONAL}


def test_no_worker_degrades_checkout_and_no_dispatcher_degrades_webhooks():
    computed = states()
    assert computed["checkout"] == State.DEGRADED
    assert computed["webhooks"] == State.DEGRADED
    assert computed["storefront"] == State.OPERATIONAL


def test_delivery_lag_counts_only_servers_whose_agent_is_connected(
        world, django_capture_on_commit_callbacks):  # noqa: F811
    _all_alive()
    order = paid_order(world["store"], world["product"],
                       capture=django_capture_on_commit_callbacks)
    DeliveryCommand.objects.filter(order=order).update(
        created_at=timezone.now() - timedelta(minutes=20))
    # The agent never polled: its commands wait for it, not for the platform.
    assert states()["delivery_api"] == State.OPERATIONAL
    GameServer.objects.filter(pk=world["server"].pk).update(agent_seen_at=timezone.now())
    assert states()["delivery_api"] == State.PARTIAL_OUTAGE
    DeliveryCommand.objects.filter(order=order).update(
        created_at=timezone.now() - timedelta(minutes=7))
    assert states()["delivery_api"] == State.DEGRADED


def test_a_declared_incident_makes_its_components_worse_and_resolving_restores_them():
    _all_alive()
    incident = _incident()
    assert states()["checkout"] == State.PARTIAL_OUTAGE
    assert states()["storefront"] == State.OPERATIONAL
    incident_post_update(actor=Actor.system(), incident_id=incident.pk,
                         status_value="resolved", body="Fixed.")
    assert states()["checkout"] == State.OPERATIONAL
    incident.refresh_from_db()
    assert incident.resolved_at is not None


def test_maintenance_counts_only_inside_its_window():
    _all_alive()
    now = timezone.now()
    _incident(kind="maintenance", title="Database upgrade", impact="maintenance",
              components=["dashboard"], status_value="scheduled",
              starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=3))
    assert states()["dashboard"] == State.OPERATIONAL
    assert states(now=now + timedelta(hours=2, minutes=5))["dashboard"] == State.MAINTENANCE


def test_a_status_that_does_not_fit_the_kind_is_refused_and_writes_nothing():
    from shopkeep.core.errors import ServiceError

    with pytest.raises(ServiceError):
        _incident(status_value="scheduled")
    with pytest.raises(ServiceError):
        _incident(components=["kitchen"])
    assert not Incident.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="status.").exists()


def test_error_rates_of_this_process_degrade_the_component(monkeypatch):
    window = status.ErrorWindow()
    totals = {"storefront": (100.0, 0.0), "checkout": (0.0, 0.0), "delivery_api": (0.0, 0.0),
              "dashboard": (0.0, 0.0)}
    monkeypatch.setattr(window, "totals", lambda: dict(totals))
    assert window.rates(now=1000.0)["storefront"] is None  # no window yet
    totals["storefront"] = (200.0, 30.0)
    rates = window.rates(now=1100.0)
    assert rates["storefront"] == pytest.approx(0.30)
    assert rates["checkout"] is None  # too few requests to judge


def test_the_page_shows_components_history_and_incidents():
    _all_alive()
    today = timezone.now().date()
    StatusDay.objects.create(component="webhooks", day=today - timedelta(days=3), samples=288,
                             outage=12)
    _incident(title="Slow webhooks", components=["webhooks"], impact="degraded")
    response = Client().get("/status/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Storefront", "Checkout and payments", "Delivery API", "Webhooks",
                 "Dashboard", "Slow webhooks"):
        assert name in html
    days = status.history()["webhooks"]
    assert len(days) == 90 and days[-1].day == today
    assert days[-4].state == State.PARTIAL_OUTAGE
    assert days[-4].uptime == pytest.approx(1 - 12 / 288)
    assert days[-1].state == State.DEGRADED and days[-1].incidents == ["Slow webhooks"]
    assert status.uptime_percent(days) == pytest.approx(100 * (1 - 12 / 288), abs=0.01)


def test_history_before_90_days_is_not_shown():
    StatusDay.objects.create(component="storefront",
                             day=timezone.now().date() - timedelta(days=120), samples=1,
                             outage=1)
    assert all(d.state == State.OPERATIONAL for d in status.history()["storefront"])


def test_a_sample_adds_to_todays_row_per_component():
    _all_alive()
    status_sample()
    Beater("dispatcher", "dispatcher:test").stop()
    status_sample()
    rows = {r.component: r for r in StatusDay.objects.all()}
    assert len(rows) == 5 and all(r.samples == 2 for r in rows.values())
    assert rows["webhooks"].degraded == 1 and rows["storefront"].degraded == 0


def test_json_summary_lists_states_and_open_incidents():
    _all_alive()
    _incident()
    body = Client().get("/status/summary.json").json()
    assert body["status"] == {"indicator": "partial_outage", "description": "Partial outage"}
    assert [c["id"] for c in body["components"]] == [
        "storefront", "checkout", "delivery_api", "webhooks", "dashboard"]
    checkout = next(c for c in body["components"] if c["id"] == "checkout")
    assert checkout["status"] == "partial_outage"
    [incident] = body["incidents"]
    assert incident["name"] == "Checkout errors"
    assert incident["updates"][0]["body"] == "We are looking into failed payments."
    assert body["scheduled_maintenances"] == []


def test_atom_feed_has_one_entry_per_update():
    incident = _incident()
    incident_post_update(actor=Actor.system(), incident_id=incident.pk,
                         status_value="identified", body="A gateway timeout.")
    response = Client().get("/status/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = ET.fromstring(response.content).findall("a:entry", ns)
    assert [e.find("a:title", ns).text for e in entries] == [
        "Checkout errors: Identified", "Checkout errors: Investigating"]


def _mails(mailoutbox):
    run_queued_tasks()
    return mailoutbox


def test_subscription_needs_confirmation_before_any_notice(mailoutbox):
    client = Client()
    client.post("/status/subscribe/", {"email": "Fan@Example.com"})
    sub = StatusSubscriber.objects.get()
    assert sub.email == "fan@example.com" and sub.confirmed_at is None
    _incident(title="Unconfirmed should not hear")
    mails = _mails(mailoutbox)
    assert [m.subject for m in mails] == ["Confirm your status page subscription"]
    link = f"/status/confirm/{sub.token}/"
    assert link in mails[0].body
    # A mail scanner following the link confirms nothing.
    assert client.get(link).status_code == 200
    sub.refresh_from_db()
    assert sub.confirmed_at is None
    client.post(link)
    sub.refresh_from_db()
    assert sub.confirmed_at is not None
    _incident(title="Confirmed hears this")
    mails = _mails(mailoutbox)
    assert mails[-1].to == ["fan@example.com"]
    assert "Confirmed hears this" in mails[-1].subject
    assert f"/status/unsubscribe/{sub.token}/" in mails[-1].body


def test_subscribing_again_reveals_nothing_and_sends_no_second_link_at_once(mailoutbox):
    client = Client()
    first = client.post("/status/subscribe/", {"email": "fan@example.com"}, follow=True)
    again = client.post("/status/subscribe/", {"email": "fan@example.com"}, follow=True)
    assert [str(m) for m in first.context["messages"]] == \
        [str(m) for m in again.context["messages"]]
    assert len(_mails(mailoutbox)) == 1
    assert StatusSubscriber.objects.count() == 1


def test_a_bad_address_subscribes_nobody():
    response = Client().post("/status/subscribe/", {"email": "not-an-address"}, follow=True)
    assert "valid e-mail" in response.content.decode()
    assert not StatusSubscriber.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_unsubscribe_takes_a_post_and_unknown_tokens_are_404():
    sub = StatusSubscriber.objects.create(email="fan@example.com",
                                          confirmed_at=timezone.now())
    client = Client()
    assert client.get(f"/status/unsubscribe/{sub.token}/").status_code == 200
    assert StatusSubscriber.objects.exists()
    client.post(f"/status/unsubscribe/{sub.token}/")
    assert not StatusSubscriber.objects.exists()
    assert client.post(f"/status/unsubscribe/{sub.token}/").status_code == 404
    assert client.get("/status/confirm/nope/").status_code == 404


def test_staff_post_and_update_incidents_with_an_audit_row():
    staff = make_user(is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.post("/staff/status/", {
        "kind": "incident", "title": "Agents cannot poll", "status": "investigating",
        "impact": "major_outage", "components": ["delivery_api"], "body": "Looking.",
        "notify": "on"})
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == \
        f"/staff/status/{incident.pk}/"
    client.post(f"/staff/status/{incident.pk}/", {
        "status": "monitoring", "impact": "degraded", "components": ["delivery_api"],
        "body": "A fix is out."})
    incident.refresh_from_db()
    assert (incident.status, incident.impact) == ("monitoring", "degraded")
    assert list(AuditLog.objects.filter(action__startswith="status.").order_by("id").values_list(
        "action", "actor_user")) == [("status.incident_created", staff.pk),
                                     ("status.incident_updated", staff.pk)]


def test_staff_form_refuses_a_maintenance_status_for_an_incident():
    client = Client()
    client.force_login(make_user(is_staff=True))
    response = client.post("/staff/status/", {
        "kind": "incident", "title": "x", "status": "scheduled", "impact": "degraded",
        "components": ["dashboard"], "body": "y"})
    assert response.status_code == 200
    assert "cannot be" in response.content.decode()
    assert not Incident.objects.exists()


def test_store_owners_cannot_reach_the_staff_status_pages():
    store = make_store()
    incident = _incident()
    client = Client()
    client.force_login(owner_of(store))
    assert client.get("/staff/status/").status_code == 404
    assert client.post("/staff/status/", {"title": "Fake"}).status_code == 404
    assert client.post(f"/staff/status/{incident.pk}/", {
        "status": "resolved", "impact": "degraded", "components": ["checkout"],
        "body": "no"}).status_code == 404
    incident.refresh_from_db()
    assert incident.status == "investigating"
    assert Incident.objects.count() == 1


def test_dashboard_banner_shows_while_an_incident_affects_a_component_the_store_uses():
    store = make_store()
    client = Client()
    client.force_login(owner_of(store))
    overview = f"/dashboard/{store.slug}/"
    assert b'data-testid="status-banner"' not in client.get(overview).content
    # The store has no game server: a Delivery API incident is not its business.
    delivery = _incident(title="Agent API down", components=["delivery_api"])
    assert b'data-testid="status-banner"' not in client.get(overview).content
    checkout = _incident(title="Checkout errors")
    page = client.get(overview).content.decode()
    assert 'data-testid="status-banner"' in page and "Checkout errors" in page
    assert "Agent API down" not in page
    incident_post_update(actor=Actor.system(), incident_id=checkout.pk,
                         status_value="resolved", body="Fixed.")
    assert b'data-testid="status-banner"' not in client.get(overview).content
    assert delivery.pk
