"""Buyers appear on the "recent purchases" and "top supporter" widgets only if they opt in
at checkout (issue 13): off by default, asked only where a widget would show them, and the
buyer's latest order decides."""

from __future__ import annotations

import pytest

from shopkeep.orders.models import Order
from shopkeep.stores.audit import Actor
from shopkeep.themes import selectors
from shopkeep.themes.services import storefront_draft_update, storefront_publish
from tests.commerce import buyer, make_product, pay
from tests.factories import owner_of
from tests.storefront.shop import checkout_data, url

pytestmark = pytest.mark.django_db


def _widgets(store, **on: bool) -> None:
    actor = Actor.for_user(owner_of(store))
    storefront_draft_update(store=store, actor=actor, changes={"widgets": on})
    storefront_publish(store=store, actor=actor)


def _buy(store, product, player: str, *, shown: bool, price_capture, email: str = ""):
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import checkout_start, order_create

    order = order_create(store=store, lines=[Line(product.pk, 1)],
                         customer=buyer(email or f"{player.lower()}@example.com", player),
                         show_in_widgets=shown)
    checkout_start(order=order, success_url="/done", cancel_url="/basket")
    ok, message = pay(order, capture=price_capture)
    assert ok, message
    # The widgets leave test orders out; the sandbox takes only test orders.
    Order.objects.filter(pk=order.pk).update(is_test_order=False)
    return order


def test_the_checkout_asks_only_when_a_widget_would_show_the_buyer(client, store, product):
    client.post(url("product", product.slug), {"quantity": "1"})
    assert b'name="show_in_widgets"' not in client.get(url("checkout")).content
    _widgets(store, recent_purchases=True)
    page = client.get(url("checkout")).content.decode()
    assert 'name="show_in_widgets"' in page
    assert 'name="show_in_widgets" checked' not in page  # off unless they tick it


def test_a_checkout_without_the_box_ticked_is_not_shown(client, store, product):
    _widgets(store, recent_purchases=True, top_customer=True)
    client.post(url("product", product.slug), {"quantity": "1"})
    client.post(url("checkout"), checkout_data())
    assert Order.objects.get().show_in_widgets is False


def test_a_checkout_with_the_box_ticked_is_recorded(client, store, product):
    _widgets(store, recent_purchases=True)
    client.post(url("product", product.slug), {"quantity": "1"})
    client.post(url("checkout"), checkout_data(show_in_widgets="on"))
    assert Order.objects.get().show_in_widgets is True


def test_the_box_is_ignored_where_no_widget_shows_buyers(client, store, product):
    client.post(url("product", product.slug), {"quantity": "1"})
    client.post(url("checkout"), checkout_data(show_in_widgets="on"))
    assert Order.objects.get().show_in_widgets is False


def test_only_buyers_who_opted_in_appear_on_the_widgets(
        store, product, django_capture_on_commit_callbacks):
    big = make_product(store, name="Mega Kit", price="99.00")
    _buy(store, big, "Whale", shown=False, price_capture=django_capture_on_commit_callbacks)
    _buy(store, product, "Steve", shown=True, price_capture=django_capture_on_commit_callbacks)
    _buy(store, product, "Alex", shown=False, price_capture=django_capture_on_commit_callbacks)
    assert [r["player"] for r in selectors.recent_purchases(store)] == ["Steve"]
    # The month's biggest spender did not opt in: skipped, not named.
    assert selectors.top_customer(store) == "Steve"


def test_opting_out_on_a_later_order_hides_the_earlier_ones(
        store, product, django_capture_on_commit_callbacks):
    _buy(store, product, "Steve", shown=True, price_capture=django_capture_on_commit_callbacks)
    assert selectors.top_customer(store) == "Steve"
    _buy(store, product, "Steve", shown=False, price_capture=django_capture_on_commit_callbacks)
    assert selectors.recent_purchases(store) == []
    assert selectors.top_customer(store) == ""


def test_another_stores_buyers_never_appear(store, product, outsider,
                                            django_capture_on_commit_callbacks):
    _buy(outsider, make_product(outsider), "Elsewhere", shown=True,
         price_capture=django_capture_on_commit_callbacks)
    assert selectors.recent_purchases(store) == []
    assert selectors.top_customer(store) == ""


def test_the_home_page_widget_lists_opted_in_buyers_without_emails(
        client, store, product, django_capture_on_commit_callbacks):
    _widgets(store, recent_purchases=True, top_customer=True)
    _buy(store, product, "Steve", shown=True, price_capture=django_capture_on_commit_callbacks,
         email="steve.secret@example.com")
    _buy(store, product, "Hidden", shown=False,
         price_capture=django_capture_on_commit_callbacks)
    from django.core.cache import cache

    cache.clear()
    page = client.get(url("home")).content.decode()
    assert 'data-testid="recent-purchases"' in page and "Steve" in page
    assert "Hidden" not in page and "steve.secret" not in page
