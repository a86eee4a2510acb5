"""Dashboard: servers, secrets shown once, queue, rotate/release/remove, delivery settings,
the order's delivery log and Retry delivery."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shopkeep.delivery.models import AgentKey, DeliveryCommand, GameServer
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, paid_order
from tests.delivery.conftest import add_server, commands_of

pytestmark = pytest.mark.django_db


def _state() -> tuple:
    return (sorted(GameServer.objects.values_list("pk", "name", "secret_hash", "removed_at",
                                                  "agent_instance")),
            sorted(AgentKey.objects.values_list("store_id", "secret_hash", "max_attempts")),
            sorted(DeliveryCommand.objects.values_list("pk", "status", "attempt_base")),
            AuditLog.objects.count())


@pytest.fixture
def server(shop):
    return add_server(shop)[0]


def _routes(shop, server, order=None):
    return [("GET", reverse("dashboard:servers", args=[shop.slug]), {}),
            ("POST", reverse("dashboard:servers", args=[shop.slug]), {"name": "X",
                                                                      "game": "minecraft"}),
            ("GET", reverse("dashboard:server_detail", args=[shop.slug, server.pk]), {}),
            ("POST", reverse("dashboard:server_detail", args=[shop.slug, server.pk]),
             {"name": "Renamed", "game": "rust"}),
            ("POST", reverse("dashboard:server_rotate", args=[shop.slug, server.pk]), {}),
            ("POST", reverse("dashboard:server_release", args=[shop.slug, server.pk]), {}),
            ("POST", reverse("dashboard:server_remove", args=[shop.slug, server.pk]), {}),
            ("GET", reverse("dashboard:server_status", args=[shop.slug, server.pk]), {}),
            ("GET", reverse("dashboard:store_secret", args=[shop.slug]), {}),
            ("POST", reverse("dashboard:store_secret_rotate", args=[shop.slug]), {}),
            ("POST", reverse("dashboard:delivery_settings", args=[shop.slug]),
             {"max_attempts": 1, "poll_seconds": 5})]


def test_an_outsider_gets_404_everywhere_and_changes_nothing(shop, server, as_outsider,
                                                             django_capture_on_commit_callbacks):
    order = paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    routes = [*_routes(shop, server), ("POST", reverse("dashboard:order_retry_delivery",
                                                        args=[shop.slug, order.pk]), {})]
    before = _state()
    for method, url, data in routes:
        response = as_outsider.get(url) if method == "GET" else as_outsider.post(url, data)
        assert response.status_code == 404, url
    assert _state() == before


def test_support_members_are_refused_server_management(shop, server, as_support):
    before = _state()
    for method, url, data in _routes(shop, server):
        response = as_support.get(url) if method == "GET" else as_support.post(url, data)
        assert response.status_code == 403, url
    assert _state() == before


def test_a_server_of_another_store_is_404_for_an_owner(shop, as_owner):
    from tests.factories import make_store

    foreign, _, _ = add_server(make_store(), "Theirs")
    url = reverse("dashboard:server_detail", args=[shop.slug, foreign.pk])
    assert as_owner.get(url).status_code == 404
    assert as_owner.post(reverse("dashboard:server_remove",
                                 args=[shop.slug, foreign.pk])).status_code == 404
    assert GameServer.objects.get(pk=foreign.pk).removed_at is None


def test_adding_a_server_shows_both_secrets_once_with_an_agent_config(shop, as_owner):
    response = as_owner.post(reverse("dashboard:servers", args=[shop.slug]),
                             {"name": "Survival", "game": "minecraft"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "store_secret = \"sks_" in page and "server_secret = \"srv_" in page
    server = GameServer.objects.get(store=shop)
    again = as_owner.get(reverse("dashboard:server_detail", args=[shop.slug, server.pk]))
    assert "server_secret = \"srv_" not in again.content.decode()


def test_a_duplicate_name_is_a_form_error(shop, server, as_owner):
    response = as_owner.post(reverse("dashboard:servers", args=[shop.slug]),
                             {"name": server.name, "game": "minecraft"})
    assert response.status_code == 200
    assert "Another server of this store has that name." in response.content.decode()
    assert GameServer.objects.filter(store=shop).count() == 1


def test_rotate_shows_the_new_secret_once(shop, server, as_owner):
    old = server.secret_hash
    response = as_owner.post(reverse("dashboard:server_rotate", args=[shop.slug, server.pk]),
                             follow=True)
    assert "server_secret = \"srv_" in response.content.decode()
    server.refresh_from_db()
    assert server.secret_hash != old


def test_removing_a_server_cancels_its_queue(shop, server, as_owner,
                                             django_capture_on_commit_callbacks):
    order = paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    as_owner.post(reverse("dashboard:server_remove", args=[shop.slug, server.pk]))
    assert [c.status for c in commands_of(order)] == ["cancelled"]
    assert GameServer.objects.get(pk=server.pk).removed_at is not None


def test_server_page_shows_waiting_players_and_retrying(shop, server, as_owner,
                                                        django_capture_on_commit_callbacks):
    from tests.delivery.conftest import set_commands

    product = make_product(shop)
    set_commands(product, "purchase", "give {player} diamond", require_online=True)
    paid_order(shop, product, capture=django_capture_on_commit_callbacks)
    page = as_owner.get(reverse("dashboard:server_detail", args=[shop.slug, server.pk]))
    assert "waiting for Steve to join" in page.content.decode()
    assert "give Steve diamond" in page.content.decode()


def test_order_page_shows_the_delivery_log_and_retry_requeues_failed(
        shop, server, as_owner, django_capture_on_commit_callbacks):
    from shopkeep.delivery.agent import fail

    order = paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    fail(server=server, command_id=command.pk, error="Unknown command", retryable=False)
    url = reverse("dashboard:order_detail", args=[shop.slug, order.pk])
    page = as_owner.get(url).content.decode()
    assert "Delivery log" in page and "say Thanks Steve" in page
    assert "COMMAND_FAILED: Unknown command" in page
    as_owner.post(reverse("dashboard:order_retry_delivery", args=[shop.slug, order.pk]))
    command.refresh_from_db()
    assert command.status == "pending"


def test_retry_with_nothing_failed_says_so(shop, server, as_owner,
                                           django_capture_on_commit_callbacks):
    order = paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    response = as_owner.post(reverse("dashboard:order_retry_delivery",
                                     args=[shop.slug, order.pk]), follow=True)
    assert "no failed commands" in response.content.decode()


def test_duplicate_agent_warning_is_shown(shop, server, as_owner):
    from django.utils import timezone

    GameServer.objects.filter(pk=server.pk).update(
        agent_instance="a", agent_seen_at=timezone.now(), duplicate_instance="b",
        duplicate_seen_at=timezone.now())
    page = as_owner.get(reverse("dashboard:server_detail", args=[shop.slug, server.pk]))
    assert 'data-testid="duplicate-warning"' in page.content.decode()
    listing = as_owner.get(reverse("dashboard:servers", args=[shop.slug]))
    assert "two agents" in listing.content.decode()


def test_an_agent_without_instance_id_gets_a_notice(shop, server, as_owner):
    from django.test import Client

    from shopkeep.delivery.services import store_secret_rotate
    from shopkeep.stores.audit import Actor
    from tests.factories import owner_of

    url = reverse("dashboard:server_detail", args=[shop.slug, server.pk])
    assert 'data-testid="anonymous-agent-notice"' not in as_owner.get(url).content.decode()
    store_secret = store_secret_rotate(store=shop, actor=Actor.for_user(owner_of(shop)))
    secret = services_rotate(shop, server)
    poll = Client().get("/api/v1/agent/commands/pending", headers={
        "X-Store-Secret": store_secret, "X-Server-Secret": secret})
    assert poll.status_code == 200
    page = as_owner.get(url).content.decode()
    assert 'data-testid="anonymous-agent-notice"' in page
    assert "does not identify itself" in page
    listing = as_owner.get(reverse("dashboard:servers", args=[shop.slug]))
    assert "agent without id" in listing.content.decode()


def services_rotate(shop, server) -> str:
    from shopkeep.delivery.services import server_rotate_secret
    from shopkeep.stores.audit import Actor
    from tests.factories import owner_of

    return server_rotate_secret(store=shop, actor=Actor.for_user(owner_of(shop)), server=server)


def test_delivery_settings_are_validated(shop, as_owner):
    as_owner.post(reverse("dashboard:delivery_settings", args=[shop.slug]),
                  {"max_attempts": 50, "poll_seconds": 5})
    assert AgentKey.objects.filter(store=shop, max_attempts=50).count() == 0
    as_owner.post(reverse("dashboard:delivery_settings", args=[shop.slug]),
                  {"max_attempts": 3, "poll_seconds": 30})
    key = AgentKey.objects.get(store=shop)
    assert (key.max_attempts, key.poll_seconds) == (3, 30)


def test_overview_warns_about_two_agents_and_failed_commands(shop, server, as_owner,
                                                             django_capture_on_commit_callbacks):
    from django.utils import timezone

    from shopkeep.delivery.agent import fail

    order = paid_order(shop, make_product(shop), capture=django_capture_on_commit_callbacks)
    (command,) = commands_of(order)
    fail(server=server, command_id=command.pk, error="x", retryable=False)
    GameServer.objects.filter(pk=server.pk).update(
        agent_instance="a", agent_seen_at=timezone.now(), duplicate_instance="b",
        duplicate_seen_at=timezone.now())
    page = as_owner.get(reverse("dashboard:overview", args=[shop.slug])).content.decode()
    assert 'data-testid="duplicate-warning"' in page
    assert "1 delivery command(s) failed" in page


def test_overview_hides_delivery_from_support(shop, server, as_support):
    page = as_support.get(reverse("dashboard:overview", args=[shop.slug])).content.decode()
    assert "delivery command(s) failed" not in page
