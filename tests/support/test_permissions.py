"""The permission matrix: store owner, admin, support role, an outsider store's owner,
platform staff, another store's customer and anonymous visitors, for every support page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.customers.services import CustomerInput, customer_get_or_create
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from shopkeep.support.models import Message, Ticket
from shopkeep.support.services import Side, ticket_reply
from tests.factories import add_member
from tests.storefront.shop import sign_in
from tests.support.conftest import client_for, new_customer_ticket, new_platform_ticket, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(store, owner, support_member, outsider, staff) -> dict[str, Client]:
    admin = add_member(store, Role.ADMIN).user
    return {"owner": client_for(owner), "admin": client_for(admin),
            "support": client_for(support_member), "outsider": client_for(outsider),
            "staff": client_for(staff), "anonymous": Client()}


@pytest.fixture
def platform_ticket(store, owner):
    return new_platform_ticket(store, owner, files=[png()])


@pytest.fixture
def customer_ticket(store):
    return new_customer_ticket(store, files=[png()])


def _state() -> tuple:
    return (sorted(Ticket.objects.values_list("pk", "status", "updated_at")),
            Message.objects.count(), AuditLog.objects.count())


# Who gets what: 200 (or a redirect after a write), 403 member without the permission,
# 404 not a member of the store (outsider and platform staff alike), 302 to sign in.
PLATFORM = {"owner": 200, "admin": 200, "support": 403, "outsider": 404, "staff": 404,
            "anonymous": 302}
CUSTOMER = {"owner": 200, "admin": 200, "support": 200, "outsider": 404, "staff": 404,
            "anonymous": 302}


TESTED_ROUTES = {
    "platform_support", "platform_ticket_create", "platform_ticket", "platform_guide",
    "platform_suggest", "platform_attachment", "platform_reply", "platform_close",
    "platform_reopen", "platform_delete", "support", "support_ticket", "support_attachment",
    "support_reply", "support_status", "support_delete",
}


def test_the_tables_below_cover_every_support_route():
    from django.urls import URLPattern

    from shopkeep.dashboard import urls as dashboard_urls
    from shopkeep.dashboard import views_platform_support, views_support

    modules = {views_platform_support.__name__, views_support.__name__}
    names = {p.name for p in dashboard_urls.urlpatterns
             if isinstance(p, URLPattern) and p.callback.__module__ in modules}
    assert names == TESTED_ROUTES


@pytest.mark.parametrize("who", list(PLATFORM))
@pytest.mark.parametrize("page", ["list", "new", "detail", "guide", "suggest", "attachment"])
def test_platform_support_pages(clients, platform_ticket, store, who, page):
    slug, pk = store.slug, platform_ticket.pk
    url = {
        "list": reverse("dashboard:platform_support", args=[slug]),
        "new": reverse("dashboard:platform_ticket_create", args=[slug]),
        "detail": reverse("dashboard:platform_ticket", args=[slug, pk]),
        "guide": reverse("dashboard:platform_guide", args=[slug, "cant-log-in"]),
        "suggest": reverse("dashboard:platform_suggest", args=[slug]) + "?subject=stripe",
        "attachment": reverse("dashboard:platform_attachment",
                              args=[slug, pk, platform_ticket.attachments.get().pk]),
    }[page]
    assert clients[who].get(url).status_code == PLATFORM[who]


@pytest.mark.parametrize("who", list(CUSTOMER))
@pytest.mark.parametrize("page", ["list", "detail", "attachment"])
def test_customer_support_pages(clients, customer_ticket, store, who, page):
    slug, pk = store.slug, customer_ticket.pk
    url = {
        "list": reverse("dashboard:support", args=[slug]),
        "detail": reverse("dashboard:support_ticket", args=[slug, pk]),
        "attachment": reverse("dashboard:support_attachment",
                              args=[slug, pk, customer_ticket.attachments.get().pk]),
    }[page]
    assert clients[who].get(url).status_code == CUSTOMER[who]


@pytest.mark.parametrize("who", ["support", "outsider", "staff", "anonymous"])
@pytest.mark.parametrize("action", ["reply", "close", "reopen", "delete"])
def test_platform_ticket_writes_by_others_change_nothing(clients, platform_ticket, store, who,
                                                         action):
    before = _state()
    url = reverse(f"dashboard:platform_{action}", args=[store.slug, platform_ticket.pk])
    response = clients[who].post(url, {"message": "let me in"})
    assert response.status_code == PLATFORM[who]
    assert _state() == before


@pytest.mark.parametrize("who", ["outsider", "staff", "anonymous"])
@pytest.mark.parametrize("action", ["reply", "status", "delete"])
def test_customer_ticket_writes_by_others_change_nothing(clients, customer_ticket, store, who,
                                                         action):
    before = _state()
    url = reverse(f"dashboard:support_{action}", args=[store.slug, customer_ticket.pk])
    response = clients[who].post(url, {"message": "hi", "action": "close"})
    assert response.status_code == CUSTOMER[who]
    assert _state() == before


def test_the_support_role_answers_customers_but_cannot_delete_tickets(clients, customer_ticket,
                                                                      store):
    url = reverse("dashboard:support_reply", args=[store.slug, customer_ticket.pk])
    assert clients["support"].post(url, {"message": "On it!"}).status_code == 302
    assert customer_ticket.messages.count() == 2
    before = _state()
    url = reverse("dashboard:support_delete", args=[store.slug, customer_ticket.pk])
    assert clients["support"].post(url).status_code == 403
    assert _state() == before


def test_an_outsider_cannot_reach_a_ticket_through_their_own_store(clients, platform_ticket,
                                                                   customer_ticket):
    for url in (reverse("dashboard:platform_ticket", args=["elsewhere", platform_ticket.pk]),
                reverse("dashboard:support_ticket", args=["elsewhere", customer_ticket.pk])):
        assert clients["outsider"].get(url).status_code == 404


@pytest.mark.parametrize("who", ["owner", "admin", "support", "outsider"])
@pytest.mark.parametrize("name", ["support_queue", "guides"])
def test_the_staff_console_is_invisible_to_stores(clients, who, name):
    assert clients[who].get(reverse(f"staff:{name}")).status_code == 404


def test_staff_see_every_stores_platform_tickets_but_not_customer_tickets(
        clients, platform_ticket, customer_ticket, outsider_store):
    other = new_platform_ticket(outsider_store)
    queue = clients["staff"].get(reverse("staff:support_queue")).content.decode()
    assert platform_ticket.subject in queue and str(other.pk) in queue
    assert clients["staff"].get(reverse("staff:ticket", args=[platform_ticket.pk])
                                ).status_code == 200
    assert clients["staff"].get(reverse("staff:ticket", args=[customer_ticket.pk])
                                ).status_code == 404


def test_the_store_never_sees_internal_notes(clients, platform_ticket, store, staff):
    ticket_reply(ticket=platform_ticket, actor=Actor.for_user(staff), side=Side.SUPPORT,
                 body="SECRET-NOTE: owner is on legacy gateway", internal=True)
    page = clients["owner"].get(reverse("dashboard:platform_ticket",
                                        args=[store.slug, platform_ticket.pk]))
    assert b"SECRET-NOTE" not in page.content
    staff_page = clients["staff"].get(reverse("staff:ticket", args=[platform_ticket.pk]))
    assert b"SECRET-NOTE" in staff_page.content


# -- customers --------------------------------------------------------------------------


def _follow(ticket, slug=None) -> str:
    return reverse("storefront:support_ticket", args=[slug or ticket.store.slug,
                                                      ticket.access_key])


def test_the_follow_link_opens_the_ticket_and_only_in_its_store(customer_ticket, outsider_store):
    assert Client().get(_follow(customer_ticket)).status_code == 200
    assert Client().get(_follow(customer_ticket, "elsewhere")).status_code == 404
    wrong = reverse("storefront:support_ticket", args=["shop", "x" * 32])
    assert Client().get(wrong).status_code == 404


def test_another_stores_customer_sees_nothing(customer_ticket, outsider_store, store):
    stranger, _ = customer_get_or_create(store=outsider_store, data=CustomerInput(
        email="player@example.com", player_name="Steve"))
    client = Client()
    sign_in(client, outsider_store, stranger)
    # Signed in at their own store only: this store's ticket list asks them to sign in.
    response = client.get(reverse("storefront:support_list", args=[store.slug]))
    assert response.status_code == 302 and "/account/login/" in response["Location"]
    own = client.get(reverse("storefront:support_list", args=[outsider_store.slug]))
    assert customer_ticket.subject.encode() not in own.content


def test_a_customer_sees_only_their_own_tickets(store):
    mine, _ = customer_get_or_create(store=store, data=CustomerInput(email="me@example.com",
                                                              player_name="MeMyself"))
    new_customer_ticket(store, email="me@example.com", subject="My own problem")
    new_customer_ticket(store, email="other@example.com", subject="Someone else's")
    client = Client()
    sign_in(client, store, mine)
    page = client.get(reverse("storefront:support_list", args=[store.slug])).content
    assert b"My own problem" in page and b"Someone else" not in page
