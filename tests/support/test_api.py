"""Store API: customer tickets (list, read, reply, status) and the store's platform tickets."""

from __future__ import annotations

import pytest

from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.support.models import Message, Status, Ticket
from shopkeep.support.services import Side, ticket_reply
from tests.factories import make_token
from tests.support.conftest import new_customer_ticket, new_platform_ticket

pytestmark = pytest.mark.django_db
API = "/api/v1"


def auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def write(store):
    return auth(make_token(store, ["tickets:write"])[1])


@pytest.fixture
def read_only(store):
    return auth(make_token(store, ["tickets:read"])[1])


@pytest.fixture
def outsider_token(outsider_store):
    return auth(make_token(outsider_store, ["tickets:write"])[1])


def _state() -> tuple:
    return (sorted(Ticket.objects.values_list("pk", "status", "updated_at")),
            Message.objects.count(), AuditLog.objects.count(), Event.objects.count())


def test_list_filters_and_searches_customer_tickets(client, store, write):
    first = new_customer_ticket(store, subject="VIP rank missing")
    new_customer_ticket(store, email="b@example.com", subject="Refund please",
                        category="payments")
    new_platform_ticket(store)  # not a customer ticket
    body = client.get(f"{API}/tickets", **write).json()
    assert body["meta"]["total"] == 2
    found = client.get(f"{API}/tickets?search=vip", **write).json()["items"]
    assert [t["id"] for t in found] == [first.pk]
    by_number = client.get(f"{API}/tickets?search=%23{first.pk}", **write).json()["items"]
    assert [t["id"] for t in by_number] == [first.pk]
    assert client.get(f"{API}/tickets?group=closed", **write).json()["meta"]["total"] == 0


def test_read_includes_the_history_with_internal_notes_flagged(client, store, write,
                                                               support_member):
    ticket = new_customer_ticket(store)
    ticket_reply(ticket=ticket, actor=Actor.for_user(support_member), side=Side.SUPPORT,
                 body="Refunded twice before?", internal=True)
    body = client.get(f"{API}/tickets/{ticket.pk}", **write).json()
    assert body["status"] == "open" and body["customer_email"] == "player@example.com"
    assert [(m["author"], m["internal"]) for m in body["messages"]] == [
        ("requester", False), ("support", True)]


def test_reply_answers_the_customer_and_reports_redactions(client, store, write):
    ticket = new_customer_ticket(store)
    response = client.post(f"{API}/tickets/{ticket.pk}/replies",
                           {"message": "Your card 4242 4242 4242 4242 was refunded"},
                           content_type="application/json", **write)
    assert response.status_code == 201
    body = response.json()
    assert body["redactions"] == ["card_number"] and "card number" in body["redaction_notice"]
    assert "4242" not in body["message"]
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_CUSTOMER
    assert ticket.last_response_by.startswith("API (")


def test_status_changes_close_and_reopen(client, store, write):
    ticket = new_customer_ticket(store)
    url = f"{API}/tickets/{ticket.pk}/status"

    def post(data):
        return client.post(url, data, content_type="application/json", **write)

    assert post({"status": "in_progress"}).json()["status"] == "in_progress"
    closed = post({"status": "closed", "message": "Delivered, enjoy!"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert ticket.messages.last().body == "Delivered, enjoy!"
    again = post({"status": "closed"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ticket_closed"
    assert post({"status": "waiting_for_customer"}).json()["status"] == "waiting_for_customer"
    bad = post({"status": "waiting_for_platform"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_status"


def test_read_only_tokens_cannot_write(client, store, read_only):
    ticket = new_customer_ticket(store)
    before = _state()
    response = client.post(f"{API}/tickets/{ticket.pk}/replies", {"message": "hi"},
                           content_type="application/json", **read_only)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert _state() == before


def test_tokens_without_a_ticket_scope_are_refused(client, store):
    headers = auth(make_token(store, ["orders:read"])[1])
    assert client.get(f"{API}/tickets", **headers).status_code == 403
    assert client.get(f"{API}/platform-tickets", **headers).status_code == 403


def test_an_outsider_store_gets_404_for_every_ticket(client, store, outsider_token):
    customer = new_customer_ticket(store)
    platform = new_platform_ticket(store)
    before = _state()
    for method, path, data in [
        ("get", f"/tickets/{customer.pk}", None),
        ("post", f"/tickets/{customer.pk}/replies", {"message": "hi"}),
        ("post", f"/tickets/{customer.pk}/status", {"status": "closed"}),
        ("get", f"/platform-tickets/{platform.pk}", None),
        ("post", f"/platform-tickets/{platform.pk}/replies", {"message": "hi"}),
        ("post", f"/platform-tickets/{platform.pk}/close", {}),
        ("post", f"/platform-tickets/{platform.pk}/reopen", {"message": "x"}),
        # A platform ticket is not reachable as a customer ticket, nor the other way round.
    ]:
        response = getattr(client, method)(f"{API}{path}", data,
                                           content_type="application/json", **outsider_token)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"{API}/tickets", **outsider_token).json()["meta"]["total"] == 0
    assert _state() == before


def test_kinds_do_not_mix(client, store, write):
    platform = new_platform_ticket(store)
    customer = new_customer_ticket(store)
    assert client.get(f"{API}/tickets/{platform.pk}", **write).status_code == 404
    assert client.get(f"{API}/platform-tickets/{customer.pk}", **write).status_code == 404


def test_platform_tickets_through_the_api(client, store, write, staff):
    response = client.post(f"{API}/platform-tickets", {
        "subject": "API returns 401", "category": "technical", "priority": "normal",
        "description": "Every call fails"}, content_type="application/json", **write)
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.plan == store.plan and ticket.environment["client"] == "api"
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT, body="Scopes?")
    ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT,
                 body="INTERNAL-ONLY", internal=True)
    detail = client.get(f"{API}/platform-tickets/{ticket.pk}", **write).json()
    assert detail["status"] == "waiting_for_store_owner"
    assert "INTERNAL-ONLY" not in str(detail) and len(detail["messages"]) == 2
    listed = client.get(f"{API}/platform-tickets?group=waiting", **write).json()
    assert [t["id"] for t in listed["items"]] == [ticket.pk]
    reply = client.post(f"{API}/platform-tickets/{ticket.pk}/replies", {"message": "All of them"},
                        content_type="application/json", **write)
    assert reply.status_code == 201
    internal = client.post(f"{API}/platform-tickets/{ticket.pk}/replies",
                           {"message": "x", "internal": True},
                           content_type="application/json", **write)
    assert internal.status_code == 403
    closed = client.post(f"{API}/platform-tickets/{ticket.pk}/close", {},
                         content_type="application/json", **write)
    assert closed.json()["status"] == "closed"
    reopened = client.post(f"{API}/platform-tickets/{ticket.pk}/reopen",
                           {"message": "Back again"}, content_type="application/json", **write)
    assert reopened.json()["status"] == "open"


def test_invalid_input_is_a_json_4xx(client, store, write):
    bad = client.post(f"{API}/platform-tickets", {"subject": "x", "category": "nope",
                                                   "description": "y"},
                      content_type="application/json", **write)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_category"
    urgent = client.post(f"{API}/platform-tickets", {"subject": "down", "category": "technical",
                                                      "priority": "urgent", "description": "y"},
                         content_type="application/json", **write)
    assert urgent.json()["error"]["code"] == "urgent_unconfirmed"
    assert not Ticket.objects.exists()
