"""ticket.created and ticket.reply carry exactly seed 002's fields; attachment URLs are signed
and expire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from shopkeep.support.services import Side, ticket_reopen, ticket_reply
from tests.commerce import make_product, paid_order
from tests.payload_shape import assert_same_shape
from tests.support.conftest import new_customer_ticket, png

pytestmark = pytest.mark.django_db
SEED = json.loads((Path(__file__).parents[1] / "data" / "seed_002_examples.json").read_text())


@pytest.fixture
def order(store, django_capture_on_commit_callbacks):
    product = make_product(store)
    return paid_order(store, product, capture=django_capture_on_commit_callbacks)


def test_ticket_created_matches_the_seed(store, order):
    ticket = new_customer_ticket(store, order_number=order.order_number.lower())
    event = Event.objects.get(event_type="ticket.created")
    assert_same_shape(event.data, SEED["ticket.created"])
    assert event.data["order_id"] == order.pk and event.data["order_number"] == order.order_number
    assert event.data["customer_id"] == order.customer_id  # known by e-mail
    assert event.data["status"] == "open" and event.data["category"] == "orders"
    assert event.data["ticket_id"] == ticket.pk


def test_ticket_created_without_an_order_or_account_has_nulls(store):
    new_customer_ticket(store, email="guest@example.com")
    data = Event.objects.get(event_type="ticket.created").data
    assert data["order_id"] is None and data["order_number"] is None
    assert data["customer_id"] is None and data["customer_email"] == "guest@example.com"


def test_ticket_reply_matches_the_seed_with_a_signed_attachment_url(store, order, settings):
    ticket = new_customer_ticket(store)  # the address has bought here: a known customer
    message = ticket_reply(ticket=ticket, actor=Actor.system("customer"), side=Side.REQUESTER,
                           body="Here's a screenshot of my profile.",
                           files=[png("screenshot.png")])
    event = Event.objects.get(event_type="ticket.reply")
    assert_same_shape(event.data, SEED["ticket.reply"])
    assert event.data["message_id"] == message.pk
    attachment = event.data["attachments"][0]
    assert attachment["filename"] == "screenshot.png" and attachment["size"] > 0
    assert attachment["url"].startswith(settings.SITE_URL + "/support/attachments/")
    path = "/" + attachment["url"].split("://", 1)[1].split("/", 1)[1]
    response = Client().get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_a_customer_reopening_with_a_message_is_a_reply(store, support_member):
    from shopkeep.support.services import ticket_close

    ticket = new_customer_ticket(store)
    ticket_close(ticket=ticket, actor=Actor.for_user(support_member), side=Side.SUPPORT)
    ticket_reopen(ticket=ticket, actor=Actor.system("customer"), side=Side.REQUESTER,
                  message="Still broken")
    reply = Event.objects.get(event_type="ticket.reply")
    assert reply.data["message"] == "Still broken" and reply.data["status"] == "open"
