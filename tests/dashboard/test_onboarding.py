"""The getting-started checklist ticks itself from facts and links to where each step is done."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shopkeep.catalog.models import DeliveryAction
from shopkeep.dashboard.onboarding import onboarding_steps
from shopkeep.delivery.models import GameServer
from shopkeep.delivery.services import server_create
from shopkeep.orders.models import OrderItem
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Role
from tests.commerce import make_product, paid_order
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db


def _done(store) -> dict[str, bool]:
    return {step.key: step.done for step in onboarding_steps(store=store)}


def test_a_new_store_has_only_the_first_step_ticked():
    store = make_store(slug="fresh")
    assert _done(store) == {"store": True, "product": False, "server": False,
                            "test_purchase": False, "gateway": False, "live": False}


def test_steps_tick_from_products_heartbeats_and_delivered_test_orders(
        django_capture_on_commit_callbacks):
    store = make_store(slug="busy")
    product = make_product(store, purchase_command=None)
    assert _done(store)["product"] is False  # a product without commands is not enough
    DeliveryAction.objects.create(store=store, product=product, trigger="purchase",
                                  commands=["lp user {player} parent add vip"])
    server, _, _ = server_create(store=store, actor=Actor.for_user(owner_of(store)),
                                 name="Survival", game="minecraft")
    assert _done(store)["server"] is False  # added, but no agent has spoken yet
    GameServer.objects.filter(pk=server.pk).update(last_heartbeat_at=timezone.now())
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    assert _done(store)["test_purchase"] is False
    OrderItem.objects.filter(order=order).update(delivery_status="delivered")
    done = _done(store)
    assert done["product"] and done["server"] and done["test_purchase"]
    assert not done["gateway"] and not done["live"]


def test_the_overview_shows_the_checklist_with_links_until_everything_is_done(client):
    store = make_store(slug="shop")
    client.force_login(owner_of(store))
    html = client.get("/dashboard/shop/").content.decode()
    assert 'data-testid="onboarding"' in html and "1 of 6 done" in html
    assert 'href="/dashboard/shop/products/new/"' in html
    assert 'href="/dashboard/shop/settings/payments/"' in html


def test_support_members_do_not_get_the_owner_checklist(client):
    store = make_store(slug="shop")
    client.force_login(add_member(store, Role.SUPPORT).user)
    assert b'data-testid="onboarding"' not in client.get("/dashboard/shop/").content
