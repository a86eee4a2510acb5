"""Dashboard: Send test command, the live command page, the customer page (orders, lifetime
value, deliveries, notes, bans, manual delivery) and the bans page; outsiders get 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shopkeep.customers import bans
from shopkeep.customers.models import Customer, CustomerBan, CustomerNote
from shopkeep.delivery import adhoc
from shopkeep.delivery.models import DeliveryCommand as Cmd
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, paid_order
from tests.delivery.conftest import add_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def server(shop):
    return add_server(shop)[0]


@pytest.fixture
def customer(shop, server, django_capture_on_commit_callbacks):
    product = make_product(shop, name="VIP Rank")
    paid_order(shop, product, capture=django_capture_on_commit_callbacks)
    return Customer.objects.get(store=shop)


def _lifetime(page) -> str:
    import re

    match = re.search(r'data-testid="lifetime-value">(.*?)</div>', page.content.decode(), re.S)
    return " ".join(match.group(1).split())


def _state() -> tuple:
    return (sorted(Cmd.objects.values_list("pk", "status")),
            sorted(CustomerBan.objects.values_list("pk", "lifted_at")),
            CustomerNote.objects.count(), AuditLog.objects.count())


def test_send_test_command_from_the_server_page_redirects_to_its_live_result(as_owner, shop,
                                                                           server):
    page = as_owner.get(reverse("dashboard:server_detail", args=[shop.slug, server.pk]))
    assert b"Send a test command" in page.content
    response = as_owner.post(reverse("dashboard:test_command", args=[shop.slug]),
                             {"server": server.pk, "command": "say hi {player}",
                              "player_name": "Notch"})
    command = Cmd.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:adhoc_command",
                                           args=[shop.slug, command.pk])
    detail = as_owner.get(response["Location"])
    assert b"say hi Notch" in detail.content and b"test" in detail.content
    live = as_owner.get(reverse("dashboard:adhoc_command_live", args=[shop.slug, command.pk]),
                        headers={"HX-Request": "true"})
    assert live.status_code == 200 and b'hx-trigger="every 2s"' in live.content


def test_the_live_result_stops_polling_once_the_agent_confirmed(as_owner, shop, server):
    command = adhoc.command_send_test(store=shop, actor=Actor.for_user(as_owner_user(shop)),
                                      server=server, command="list")
    Cmd.objects.filter(pk=command.pk).update(status="completed", output="2 players online")
    live = as_owner.get(reverse("dashboard:adhoc_command_live", args=[shop.slug, command.pk]),
                        headers={"HX-Request": "true"})
    assert live.status_code == 286 and b"2 players online" in live.content


def as_owner_user(shop):
    from tests.factories import owner_of

    return owner_of(shop)


def test_a_bad_test_command_is_shown_under_its_field_and_queues_nothing(as_owner, shop,
                                                                      server):
    response = as_owner.post(reverse("dashboard:test_command", args=[shop.slug]),
                             {"server": server.pk, "command": "give {player} x"})
    assert response.status_code == 400
    assert b"name a test player" in response.content
    assert not Cmd.objects.exists()


def test_command_editor_links_each_action_to_a_test(as_owner, shop):
    product = make_product(shop, purchase_command="lp user {player} parent add vip")
    page = as_owner.get(reverse("dashboard:product_actions",
                                args=[shop.slug, product.pk, "purchase"]))
    assert b'data-testid="test-command-link"' in page.content
    assert b"command=lp%20user%20%7Bplayer%7D%20parent%20add%20vip" in page.content


def test_customer_page_shows_orders_lifetime_value_and_deliveries(as_owner, shop, customer):
    page = as_owner.get(reverse("dashboard:customer_detail", args=[shop.slug, customer.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    order = customer.orders.get()
    assert order.order_number in body
    assert _lifetime(page) == "29.99 USD"
    assert "say Thanks Steve" in body  # the order's delivery command


def test_customer_lifetime_value_is_net_of_refunds(as_owner, shop, customer,
                                                   django_capture_on_commit_callbacks):
    order = customer.orders.get()
    owner = Actor.for_user(as_owner_user(shop))
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(store=shop, actor=owner, order=order, amount=order.total - 10,
                                reason="partial")
        refund_execute(refund_id=refund.pk)
    page = as_owner.get(reverse("dashboard:customer_detail", args=[shop.slug, customer.pk]))
    assert _lifetime(page) == "10.00 USD"


def test_notes_ban_and_lift_from_the_customer_page(as_owner, shop, customer):
    base = [shop.slug, customer.pk]
    as_owner.post(reverse("dashboard:customer_note_add", args=base), {"body": "Nice kid"})
    assert CustomerNote.objects.get().body == "Nice kid"
    response = as_owner.post(reverse("dashboard:customer_ban", args=base),
                             {"kinds": ["email", "player"], "reason": "chargeback abuse",
                              "public_message": ""})
    assert response.status_code == 302
    assert CustomerBan.objects.filter(lifted_at__isnull=True).count() == 2
    page = as_owner.get(reverse("dashboard:customer_detail", args=base))
    assert b'data-testid="banned-badge"' in page.content
    ban = CustomerBan.objects.first()
    as_owner.post(reverse("dashboard:ban_lift", args=[shop.slug, ban.pk]), {"next": "customer"})
    ban.refresh_from_db()
    assert not ban.active


def test_ban_without_a_reason_shows_the_error_and_bans_nothing(as_owner, shop, customer):
    response = as_owner.post(reverse("dashboard:customer_ban", args=[shop.slug, customer.pk]),
                             {"kinds": ["email"], "reason": ""})
    assert response.status_code == 400
    assert not CustomerBan.objects.exists()


def test_manual_product_delivery_from_the_customer_page(as_owner, shop, customer):
    product = customer.orders.get().items.get().product
    response = as_owner.post(
        reverse("dashboard:customer_manual_delivery", args=[shop.slug, customer.pk]),
        {"kind": "product", "mp-product": product.pk, "mp-quantity": 1,
         "mp-reason": "lost items"})
    assert response.status_code == 302
    manual = Cmd.objects.get(origin="manual")
    assert manual.customer_id == customer.pk and manual.reason == "lost items"


def test_manual_delivery_without_a_reason_is_refused_on_the_form(as_owner, shop, customer,
                                                                server):
    count = Cmd.objects.count()
    response = as_owner.post(
        reverse("dashboard:customer_manual_delivery", args=[shop.slug, customer.pk]),
        {"kind": "command", "mc-server": server.pk, "mc-command": "give {player} apple",
         "mc-reason": ""})
    assert response.status_code == 400
    assert Cmd.objects.count() == count


def test_bans_page_adds_an_ip_ban(as_owner, shop):
    response = as_owner.post(reverse("dashboard:bans", args=[shop.slug]),
                             {"kind": "ip", "value": "203.0.113.5", "reason": "card testing"})
    assert response.status_code == 302
    assert CustomerBan.objects.get().value == "203.0.113.5"
    assert b"203.0.113.5" in as_owner.get(reverse("dashboard:bans", args=[shop.slug])).content


def test_support_can_read_and_note_but_not_ban_or_deliver(as_support, shop, customer, server):
    base = [shop.slug, customer.pk]
    assert as_support.get(reverse("dashboard:customer_detail", args=base)).status_code == 200
    before = _state()
    assert as_support.post(reverse("dashboard:customer_ban", args=base),
                           {"kinds": ["email"], "reason": "x"}).status_code == 403
    assert as_support.post(reverse("dashboard:customer_manual_delivery", args=base),
                           {"kind": "command", "mc-server": server.pk, "mc-command": "x",
                            "mc-reason": "x"}).status_code == 403
    assert as_support.post(reverse("dashboard:bans", args=[shop.slug]),
                           {"kind": "ip", "value": "203.0.113.5",
                            "reason": "x"}).status_code == 403
    assert _state() == before


def test_outsider_gets_404_everywhere_and_changes_nothing(as_outsider, shop, customer, server):
    owner = Actor.for_user(as_owner_user(shop))
    command = adhoc.command_send_test(store=shop, actor=owner, server=server, command="list")
    ban = bans.ban_create(store=shop, actor=owner, kind="email", value="a@example.com",
                          reason="x")
    before = _state()
    s = shop.slug
    for method, path, data in [
        ("GET", reverse("dashboard:test_command", args=[s]), {}),
        ("POST", reverse("dashboard:test_command", args=[s]),
         {"server": server.pk, "command": "list"}),
        ("GET", reverse("dashboard:adhoc_command", args=[s, command.pk]), {}),
        ("GET", reverse("dashboard:adhoc_command_live", args=[s, command.pk]), {}),
        ("POST", reverse("dashboard:adhoc_command_review", args=[s, command.pk,
                                                                 "mark-delivered"]), {}),
        ("GET", reverse("dashboard:customer_detail", args=[s, customer.pk]), {}),
        ("POST", reverse("dashboard:customer_note_add", args=[s, customer.pk]), {"body": "x"}),
        ("POST", reverse("dashboard:customer_ban", args=[s, customer.pk]),
         {"kinds": ["email"], "reason": "x"}),
        ("POST", reverse("dashboard:customer_manual_delivery", args=[s, customer.pk]),
         {"kind": "command", "mc-server": server.pk, "mc-command": "x", "mc-reason": "x"}),
        ("GET", reverse("dashboard:bans", args=[s]), {}),
        ("POST", reverse("dashboard:ban_lift", args=[s, ban.pk]), {}),
    ]:
        call = as_outsider.get if method == "GET" else as_outsider.post
        assert call(path, data).status_code == 404, path
    # Their own store's URLs with this store's ids: still nothing.
    mine = "elsewhere"
    assert as_outsider.get(reverse("dashboard:adhoc_command",
                                   args=[mine, command.pk])).status_code == 404
    assert as_outsider.get(reverse("dashboard:customer_detail",
                                   args=[mine, customer.pk])).status_code == 404
    assert as_outsider.post(reverse("dashboard:ban_lift", args=[mine, ban.pk])).status_code == 404
    assert _state() == before


def test_run_a_command_from_the_server_page_is_audited_with_its_reason(as_owner, shop, server):
    response = as_owner.post(reverse("dashboard:server_manual_command",
                                     args=[shop.slug, server.pk]),
                             {"command": "say Restart in 5 minutes", "reason": "maintenance"})
    command = Cmd.objects.get()
    assert response.status_code == 302 and command.origin == "manual"
    assert command.customer_id is None and command.order_id is None
    entry = AuditLog.objects.get(action="server.manual_command")
    assert entry.details["reason"] == "maintenance"


def test_run_a_command_without_a_reason_queues_nothing(as_owner, shop, server):
    as_owner.post(reverse("dashboard:server_manual_command", args=[shop.slug, server.pk]),
                  {"command": "say hi", "reason": ""})
    assert not Cmd.objects.exists()


def test_outsider_cannot_run_a_command_on_the_server(as_outsider, shop, server):
    before = _state()
    assert as_outsider.post(reverse("dashboard:server_manual_command",
                                    args=[shop.slug, server.pk]),
                            {"command": "op me", "reason": "x"}).status_code == 404
    assert _state() == before
