"""Customer tickets on the storefront: the form, the e-mailed follow link, the account."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from shopkeep.customers.services import CustomerInput, customer_get_or_create
from shopkeep.events.models import Event
from shopkeep.support.models import Status, Ticket
from tests.storefront.shop import sign_in
from tests.support.conftest import run_worker

pytestmark = pytest.mark.django_db


def url(name: str, *args, slug: str = "shop") -> str:
    return reverse(f"storefront:{name}", args=[slug, *args])


FORM = {"email": "Player@Example.com", "name": "John Doe", "subject": "Order not delivered",
        "category": "orders", "priority": "normal", "message": "VIP rank missing."}


@pytest.mark.django_db(transaction=True)
def test_a_guest_gets_the_follow_link_by_mail_only(store, mailoutbox):
    response = Client().post(url("support_new"), FORM)
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    page = response.content.decode()
    assert "player@example.com" in page and ticket.access_key not in page
    assert mailoutbox == []  # queued, not sent inside the request
    run_worker()
    mail = next(m for m in mailoutbox if m.to == ["player@example.com"])
    link = re.search(r"https?://\S+/support/t/\S+/", mail.body).group(0)
    follow = Client().get(link[link.index("/s/"):])
    assert follow.status_code == 200 and follow["Referrer-Policy"] == "same-origin"
    assert "VIP rank missing." in follow.content.decode()


def test_a_signed_in_customer_goes_straight_to_the_ticket(store):
    customer, _ = customer_get_or_create(store=store, data=CustomerInput(email="me@example.com",
                                                                  player_name="Steve"))
    client = Client()
    sign_in(client, store, customer)
    form = {k: v for k, v in FORM.items() if k not in ("email", "name")}
    response = client.post(url("support_new"), form)
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and ticket.access_key in response["Location"]
    assert ticket.customer == customer and ticket.customer_email == "me@example.com"
    listing = client.get(url("support_list")).content.decode()
    assert "Order not delivered" in listing


def test_the_customer_replies_closes_and_reopens_from_the_follow_page(store):
    Client().post(url("support_new"), FORM)
    ticket = Ticket.objects.get()
    page = url("support_ticket", ticket.access_key)
    client = Client()
    client.post(page, {"action": "reply", "message": "Still nothing"})
    assert Event.objects.filter(event_type="ticket.reply").count() == 1
    client.post(page, {"action": "close", "message": ""})
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    client.post(page, {"action": "reopen", "message": "It happened again"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_a_second_ticket_within_half_a_minute_is_refused(store):
    client = Client()
    assert client.post(url("support_new"), FORM).status_code == 200
    again = client.post(url("support_new"), {**FORM, "subject": "Again"})
    assert again.status_code == 400 and Ticket.objects.count() == 1


def test_an_unknown_order_number_is_a_form_error(store):
    response = Client().post(url("support_new"), {**FORM, "order_number": "ORD-XXXXXXXXXX"})
    assert response.status_code == 400 and "None of your orders" in response.content.decode()
    assert not Ticket.objects.exists() and not Event.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_html_disguised_as_an_image_is_refused_on_the_form(store):
    html = SimpleUploadedFile("proof.png", b"<html><script>alert(1)</script>", "image/png")
    response = Client().post(url("support_new"), {**FORM, "attachments": [html]})
    assert response.status_code == 400 and not Ticket.objects.exists()


def test_a_closed_store_takes_no_tickets(store):
    store.status = "suspended"
    store.save()
    assert Client().get(url("support_new")).status_code == 404
