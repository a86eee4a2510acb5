"""Dashboard shell: home, store creation, overview, store settings and the audit log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Membership, Role, Store
from shopkeep.stores.services import token_create
from tests.factories import add_member, make_store, make_user

pytestmark = pytest.mark.django_db


def _login_redirect(response, url: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def _settings_post(**overrides) -> dict:
    data = {"name": "Block Party 2", "currency": "EUR", "time_zone": "Europe/Berlin",
            "game": "rust", "test_mode": ""}
    data.update(overrides)
    return data


# -- home -----------------------------------------------------------------------------------


def test_anonymous_home_redirects_to_login(client):
    url = reverse("dashboard:home")
    _login_redirect(client.get(url), url)


def test_home_without_a_store_sends_the_user_to_store_creation(client):
    client.force_login(make_user())
    response = client.get(reverse("dashboard:home"))
    assert response["Location"] == reverse("dashboard:store_create")


def test_home_opens_the_store_last_visited(client, shop, shop_owner):
    other = make_store(shop_owner, slug="aaa-first", name="AAA First")
    client.force_login(shop_owner)
    assert client.get(reverse("dashboard:home"))["Location"] == reverse(
        "dashboard:overview", args=[other.slug])
    client.get(reverse("dashboard:overview", args=["shop"]))
    assert client.get(reverse("dashboard:home"))["Location"] == reverse(
        "dashboard:overview", args=["shop"])


def test_home_never_opens_a_closed_store(client, shop, shop_owner):
    Store.objects.filter(pk=shop.pk).update(status=Store.Status.CLOSED)
    client.force_login(shop_owner)
    assert client.get(reverse("dashboard:home"))["Location"] == reverse(
        "dashboard:store_create")


def test_outsiders_home_leads_to_their_own_store(as_outsider, shop):
    response = as_outsider.get(reverse("dashboard:home"))
    assert response["Location"] == reverse("dashboard:overview", args=["elsewhere"])


# -- store_create ---------------------------------------------------------------------------


def test_anonymous_store_create_redirects_to_login_and_creates_nothing(client, state):
    url = reverse("dashboard:store_create")
    _login_redirect(client.get(url), url)
    before = state()
    _login_redirect(client.post(url, {"name": "X", "slug": "xyz", "currency": "USD",
                                      "time_zone": "UTC"}), url)
    assert state() == before


def test_a_user_creates_a_store_and_becomes_its_owner(client):
    user = make_user()
    client.force_login(user)
    assert client.get(reverse("dashboard:store_create")).status_code == 200
    response = client.post(reverse("dashboard:store_create"), {
        "name": "Craft Co", "slug": "craft-co", "currency": "EUR", "time_zone": "Europe/Paris"})
    store = Store.objects.get(slug="craft-co")
    assert response["Location"] == reverse("dashboard:overview", args=["craft-co"])
    assert (store.name, store.currency, store.time_zone) == ("Craft Co", "EUR", "Europe/Paris")
    assert Membership.objects.get(store=store).user == user
    assert Membership.objects.get(store=store).role == Role.OWNER
    assert AuditLog.objects.filter(store=store, action="store.created").count() == 1


@pytest.mark.parametrize("slug", ["Bad Slug!", "-dash", "ab", "admin", "shop", ""],
                         ids=["spaces", "leading-dash", "too-short", "reserved", "taken",
                              "empty"])
def test_a_bad_slug_shows_a_form_error_and_writes_nothing(client, shop, state, slug):
    client.force_login(make_user())
    before = state()
    response = client.post(reverse("dashboard:store_create"), {
        "name": "Craft Co", "slug": slug, "currency": "USD", "time_zone": "UTC"})
    assert response.status_code == 200
    assert response.context["form"].errors.get("slug")
    assert b"errorlist" in response.content
    assert state() == before


def test_an_unknown_time_zone_shows_a_form_error_and_writes_nothing(client, state):
    client.force_login(make_user())
    before = state()
    response = client.post(reverse("dashboard:store_create"), {
        "name": "Craft Co", "slug": "craft-co", "currency": "USD", "time_zone": "EST5EDT-ish"})
    assert response.status_code == 200
    assert response.context["form"].errors.get("time_zone")
    assert state() == before


# -- overview -------------------------------------------------------------------------------


def test_anonymous_overview_redirects_to_login(client, shop):
    url = reverse("dashboard:overview", args=["shop"])
    _login_redirect(client.get(url), url)


def test_owner_sees_the_overview_with_recent_activity(as_owner, shop, shop_owner):
    token_create(store=shop, actor=Actor.for_user(shop_owner), name="ci",
                 scopes=["store:read"])
    response = as_owner.get(reverse("dashboard:overview", args=["shop"]))
    assert response.status_code == 200
    assert response.context["store"] == shop
    assert response.context["token_count"] == 1
    assert b"created token" in response.content  # the audit row as a sentence


def test_support_sees_the_overview_without_the_audit_trail(as_support, shop):
    response = as_support.get(reverse("dashboard:overview", args=["shop"]))
    assert response.status_code == 200
    assert list(response.context["recent_audit"]) == []
    assert b"created store" not in response.content


@pytest.mark.parametrize("slug", ["shop", "no-such-store"])
def test_outsider_and_missing_store_are_the_same_404(as_outsider, shop, slug):
    response = as_outsider.get(reverse("dashboard:overview", args=[slug]))
    assert response.status_code == 404
    assert b"Block Party" not in response.content


def test_a_closed_store_is_404_even_for_its_owner(as_owner, shop):
    Store.objects.filter(pk=shop.pk).update(status=Store.Status.CLOSED)
    assert as_owner.get(reverse("dashboard:overview", args=["shop"])).status_code == 404


# -- settings -------------------------------------------------------------------------------


def test_anonymous_settings_redirects_to_login_and_changes_nothing(client, shop, state):
    url = reverse("dashboard:settings", args=["shop"])
    _login_redirect(client.get(url), url)
    before = state()
    _login_redirect(client.post(url, _settings_post()), url)
    assert state() == before


def test_owner_saves_settings_with_one_audit_row(as_owner, shop):
    url = reverse("dashboard:settings", args=["shop"])
    page = as_owner.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["name"] == "Block Party"
    response = as_owner.post(url, _settings_post())
    assert response["Location"] == url
    shop.refresh_from_db()
    assert (shop.name, shop.currency, shop.time_zone, shop.game, shop.test_mode) == (
        "Block Party 2", "EUR", "Europe/Berlin", "rust", False)
    log = AuditLog.objects.get(store=shop, action="store.updated")
    assert set(log.details["changes"]) == {"name", "currency", "time_zone", "game", "test_mode"}


def test_admin_may_change_settings(client, shop):
    client.force_login(add_member(shop, Role.ADMIN).user)
    response = client.post(reverse("dashboard:settings", args=["shop"]),
                           _settings_post(name="By Admin", test_mode="on"))
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.name == "By Admin"


def test_invalid_settings_show_a_form_error_and_change_nothing(as_owner, shop, state):
    before = state()
    response = as_owner.post(reverse("dashboard:settings", args=["shop"]),
                             _settings_post(currency="XXX", name=""))
    assert response.status_code == 200
    assert {"currency", "name"} <= set(response.context["form"].errors)
    assert state() == before


def test_support_gets_403_on_settings_and_changes_nothing(as_support, shop, state):
    url = reverse("dashboard:settings", args=["shop"])
    assert as_support.get(url).status_code == 403
    before = state()
    assert as_support.post(url, _settings_post()).status_code == 403
    assert state() == before


def test_outsider_gets_404_on_settings_and_changes_nothing(as_outsider, shop, state):
    url = reverse("dashboard:settings", args=["shop"])
    assert as_outsider.get(url).status_code == 404
    before = state()
    assert as_outsider.post(url, _settings_post()).status_code == 404
    assert state() == before


# -- audit ----------------------------------------------------------------------------------


def test_anonymous_audit_redirects_to_login(client, shop):
    url = reverse("dashboard:audit", args=["shop"])
    _login_redirect(client.get(url), url)


def test_owner_reads_the_audit_log_newest_first_in_pages_of_50(as_owner, shop, shop_owner):
    for index in range(55):
        token_create(store=shop, actor=Actor.for_user(shop_owner), name=f"t{index}",
                     scopes=["store:read"])
    other = make_store(slug="other")
    token_create(store=other, actor=Actor.for_user(Membership.objects.get(store=other).user),
                 name="foreign-token", scopes=["store:read"])
    url = reverse("dashboard:audit", args=["shop"])

    first = as_owner.get(url)
    assert first.status_code == 200
    rows = list(first.context["page"])
    assert len(rows) == 50
    assert rows[0].details["name"] == "t54"
    assert all(row.store_id == shop.pk for row in rows)
    assert b"foreign-token" not in first.content

    second = as_owner.get(url, {"page": 2})
    assert len(second.context["page"]) == 6  # 5 tokens + store.created
    assert second.context["page"][5].action == "store.created"


def test_support_gets_403_on_the_audit_log(as_support, shop):
    assert as_support.get(reverse("dashboard:audit", args=["shop"])).status_code == 403


def test_outsider_gets_404_on_the_audit_log(as_outsider, shop):
    response = as_outsider.get(reverse("dashboard:audit", args=["shop"]))
    assert response.status_code == 404
    assert b"store.created" not in response.content


def test_pages_have_no_side_effect_on_get(client, shop, shop_owner, state):
    client.force_login(shop_owner)
    before = state()
    for name in ("overview", "settings", "members", "tokens", "audit"):
        assert client.get(reverse(f"dashboard:{name}", args=["shop"])).status_code == 200
    assert client.get(reverse("dashboard:store_create")).status_code == 200
    assert state() == before


def test_login_uses_the_real_login_page(shop):
    # Guards the redirect target used above: the login page exists and renders.
    assert Client().get(reverse("account_login")).status_code == 200


def test_a_bad_store_address_is_explained_under_its_own_field_in_the_help_texts_words(client):
    from tests.factories import make_user

    client.force_login(make_user("fresh@example.com"))
    response = client.post("/dashboard/new-store/", {"name": "Blocky", "slug": "Bad Address!",
                                                     "currency": "USD", "time_zone": "UTC"})
    assert response.status_code == 200
    html = response.content.decode()
    error = html.index('id="id_slug_error"')
    assert html.index('name="slug"') < error < html.index('name="currency"')
    assert "3 to 50 lower-case letters, digits or dashes" in html[error:error + 300]
    assert "“slug”" not in html
