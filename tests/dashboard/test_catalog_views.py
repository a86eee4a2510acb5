"""Dashboard products, categories, command editor and customers pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shopkeep.catalog.models import Category, DeliveryAction, Product
from shopkeep.catalog.services import ProductInput, product_create
from shopkeep.customers.services import CustomerInput, customer_get_or_create
from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Role
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store(slug="shop")


@pytest.fixture
def owner_client(client, store):
    client.force_login(owner_of(store))
    return client


@pytest.fixture
def product(store):
    return product_create(store=store, actor=Actor.for_user(owner_of(store)),
                          data=ProductInput(name="VIP Rank", price="9.99"))


def _product_post(**overrides) -> dict:
    data = {"name": "Diamond Kit", "slug": "", "price": "4.50", "type": "digital",
            "billing_interval": "", "trial_days": "0", "category_id": "", "description": "",
            "is_active": "on", "stock_quantity": "", "sort_order": "0"}
    data.update(overrides)
    return data


def test_owner_creates_a_product_and_lands_on_its_purchase_commands(owner_client, store):
    response = owner_client.post(reverse("dashboard:product_create", args=["shop"]),
                                 _product_post())
    product = Product.objects.get(store=store, name="Diamond Kit")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:product_actions",
                                           args=["shop", product.pk, "purchase"])
    assert Event.objects.filter(store=store, event_type="product.created").count() == 1
    listing = owner_client.get(reverse("dashboard:products", args=["shop"]))
    assert b"Diamond Kit" in listing.content


def test_a_subscription_without_interval_shows_a_form_error_and_writes_nothing(owner_client,
                                                                               store):
    response = owner_client.post(reverse("dashboard:product_create", args=["shop"]),
                                 _product_post(type="subscription"))
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Product.objects.filter(store=store).exists()
    assert not Event.objects.filter(store=store).exists()


def test_command_editor_saves_purchase_commands_with_the_online_flag(owner_client, store,
                                                                     product):
    url = reverse("dashboard:product_actions", args=["shop", product.pk, "purchase"])
    page = owner_client.get(url)
    assert page.status_code == 200 and b"{player}" in page.content
    response = owner_client.post(url, {
        "action-TOTAL_FORMS": "1", "action-INITIAL_FORMS": "0",
        "action-0-commands": "lp user {player} parent add vip\ngive {player} diamond 1",
        "action-0-require_online": "on",
    })
    assert response.status_code == 302
    action = DeliveryAction.objects.get(product=product, trigger="purchase")
    assert action.commands == ["lp user {player} parent add vip", "give {player} diamond 1"]
    assert action.require_online is True


def test_command_editor_refuses_an_unknown_placeholder_and_keeps_the_old_commands(
        owner_client, product):
    url = reverse("dashboard:product_actions", args=["shop", product.pk, "refund"])
    owner_client.post(url, {"action-TOTAL_FORMS": "1", "action-INITIAL_FORMS": "0",
                            "action-0-commands": "lp user {player} parent remove vip"})
    response = owner_client.post(url, {"action-TOTAL_FORMS": "1", "action-INITIAL_FORMS": "0",
                                       "action-0-commands": "say {password}"})
    assert response.status_code == 200
    assert b"Unknown placeholder" in response.content
    commands = list(DeliveryAction.objects.filter(product=product).values_list("commands",
                                                                                flat=True))
    assert commands == [["lp user {player} parent remove vip"]]


def test_command_editor_warns_about_a_leading_slash_and_a_capitalised_placeholder(
        owner_client, product):
    url = reverse("dashboard:product_actions", args=["shop", product.pk, "purchase"])
    response = owner_client.post(url, {
        "action-TOTAL_FORMS": "1", "action-INITIAL_FORMS": "0",
        "action-0-commands": "/lp user {Player} parent add vip\ngive {player} diamond 1"},
        follow=True)
    assert response.status_code == 200
    warnings = response.content.decode().split('data-testid="command-warnings"')[1]
    warnings = warnings.split("</ul>")[0]
    assert "Line 1 starts with “/”" in warnings
    assert "{Player} is not a placeholder" in warnings and "did you mean {player}?" in warnings
    assert "Line 2" not in warnings
    # Warnings, not errors: saved as typed.
    action = DeliveryAction.objects.get(product=product, trigger="purchase")
    assert action.commands == ["/lp user {Player} parent add vip", "give {player} diamond 1"]


def test_command_editor_shows_no_warning_for_clean_commands(owner_client, product):
    url = reverse("dashboard:product_actions", args=["shop", product.pk, "purchase"])
    response = owner_client.post(url, {
        "action-TOTAL_FORMS": "1", "action-INITIAL_FORMS": "0",
        "action-0-commands": "lp user {player} parent add vip"}, follow=True)
    assert b"command-warnings" not in response.content


def test_unknown_trigger_redirects_to_purchase_commands(owner_client, product):
    response = owner_client.get(reverse("dashboard:product_actions",
                                        args=["shop", product.pk, "teleport"]))
    assert response.status_code == 302
    assert response["Location"].endswith("/commands/purchase/")


def test_owner_deletes_a_product_softly(owner_client, store, product):
    response = owner_client.post(reverse("dashboard:product_delete", args=["shop", product.pk]))
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.deleted_at is not None
    assert Event.objects.filter(store=store, event_type="product.deleted").count() == 1


def test_categories_are_created_edited_and_deleted(owner_client, store):
    owner_client.post(reverse("dashboard:categories", args=["shop"]),
                      {"name": "Ranks", "slug": "", "description": "", "sort_order": "0"})
    category = Category.objects.get(store=store)
    assert category.slug == "ranks"
    owner_client.post(reverse("dashboard:category_edit", args=["shop", category.pk]),
                      {"name": "Ranks & Perks", "slug": "ranks", "description": "",
                       "sort_order": "2"})
    category.refresh_from_db()
    assert (category.name, category.sort_order) == ("Ranks & Perks", 2)
    owner_client.post(reverse("dashboard:category_delete", args=["shop", category.pk]))
    assert not Category.objects.filter(store=store).exists()


def test_support_member_sees_products_but_cannot_edit_them(client, store, product):
    client.force_login(add_member(store, Role.SUPPORT).user)
    listing = client.get(reverse("dashboard:products", args=["shop"]))
    assert listing.status_code == 200
    assert reverse("dashboard:product_edit", args=["shop", product.pk]).encode() \
        not in listing.content
    assert client.get(reverse("dashboard:product_edit", args=["shop", product.pk])
                      ).status_code == 403
    assert client.post(reverse("dashboard:categories", args=["shop"]),
                       {"name": "X", "sort_order": "0"}).status_code == 403
    assert not Category.objects.filter(store=store).exists()


def test_customers_list_searches_and_shows_a_customer(owner_client, store):
    customer, _ = customer_get_or_create(store=store, data=CustomerInput(
        email="steve@example.com", player_name="Steve_01", country="DE"))
    customer_get_or_create(store=store, data=CustomerInput(email="alex@example.com",
                                                    player_name="Alex"))
    listing = owner_client.get(reverse("dashboard:customers", args=["shop"]), {"q": "steve"})
    assert b"steve@example.com" in listing.content and b"alex@example.com" not in listing.content
    detail = owner_client.get(reverse("dashboard:customer_detail", args=["shop", customer.pk]))
    assert detail.status_code == 200
    assert b"Steve_01" in detail.content and b"Germany" in detail.content


@pytest.mark.parametrize("name,method", [
    ("products", "get"), ("product_create", "get"), ("product_edit", "get"),
    ("product_delete", "post"), ("product_actions", "get"), ("categories", "get"),
    ("category_edit", "get"), ("category_delete", "post"), ("customers", "get"),
    ("customer_detail", "get"),
])
def test_an_outsider_store_owner_gets_404_and_changes_nothing(client, store, product, name,
                                                              method):
    category = Category.objects.create(store=store, name="Ranks", slug="ranks")
    customer, _ = customer_get_or_create(store=store, data=CustomerInput(email="s@example.com",
                                                                  player_name="Steve"))
    args = {"product_edit": [product.pk], "product_delete": [product.pk],
            "product_actions": [product.pk, "purchase"], "category_edit": [category.pk],
            "category_delete": [category.pk], "customer_detail": [customer.pk]}.get(name, [])
    outsider = make_store(slug="other")
    client.force_login(owner_of(outsider))
    response = getattr(client, method)(reverse(f"dashboard:{name}", args=["shop", *args]))
    assert response.status_code == 404
    # The outsider's own slug with this store's ids must not reach them either.
    if args:
        response = getattr(client, method)(reverse(f"dashboard:{name}", args=["other", *args]))
        assert response.status_code == 404
    product.refresh_from_db()
    assert product.deleted_at is None
    assert Category.objects.filter(pk=category.pk).exists()
