"""Store Builder in the dashboard: draft, preview, publish; pages; domains; maintenance;
roles and outsiders."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shopkeep.demo_art import logo_art
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Role
from shopkeep.themes.domains import domain_add
from shopkeep.themes.models import StoreDomain, StorefrontSettings, StorePage
from shopkeep.themes.services import page_create
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache():
    cache.clear()


@pytest.fixture
def store():
    return make_store(slug="shop", name="Block Party")


@pytest.fixture
def owner_client(client, store):
    client.force_login(owner_of(store))
    return client


def _u(name, *args, slug="shop"):
    return reverse(f"dashboard:{name}", args=[slug, *args])


def _form(**overrides):
    data = {"theme": "default", "tagline": "Best blocks", "option_accent": "#aa0000",
            "option_background": "#f3f5f9", "option_surface": "#ffffff",
            "option_text": "#161b26", "option_columns": "4", "option_hero": "plain",
            "option_category_tabs": "on", "widget_server_status": "on",
            "server_address": "play.example.com", "discord_url": "https://discord.gg/x",
            "action": "save"}
    data.update(overrides)
    return data


def test_saving_keeps_buyers_on_the_published_design_until_publish(owner_client, client, store):
    response = owner_client.post(_u("storefront"), _form())
    assert response.status_code == 302
    row = StorefrontSettings.objects.get(store=store)
    assert row.draft["tagline"] == "Best blocks" and row.draft["options"]["columns"] == "4"
    assert row.published == {}
    page = owner_client.get(_u("storefront"))
    assert b"unpublished changes" in page.content
    owner_client.post(_u("storefront_action", "publish"))
    row.refresh_from_db()
    assert row.published["tagline"] == "Best blocks"
    css = owner_client.get("/s/shop/store.css").content.decode()
    assert "--accent: #aa0000;" in css and "--columns: 4;" in css


def test_preview_shows_the_draft_to_the_owner_only(owner_client, store):
    owner_client.post(_u("storefront"), _form(tagline="Draft words", action="preview"))
    assert b"Draft words" in owner_client.get("/s/shop/").content
    anonymous = type(owner_client)()
    assert b"Draft words" not in anonymous.get("/s/shop/").content
    owner_client.post("/s/shop/preview/exit/")
    assert b"Draft words" not in owner_client.get("/s/shop/").content


def test_switching_theme_then_publishing_serves_the_other_theme(owner_client, store):
    owner_client.post(_u("storefront"), _form(theme="midnight", action="publish"))
    page = owner_client.get("/s/shop/").content.decode()
    assert "theme-midnight" in page and "themes/midnight/theme.css" in page


def test_a_logo_upload_is_shown_and_a_fake_image_refused(owner_client, store):
    bad = owner_client.post(_u("storefront"), {**_form(), "logo": SimpleUploadedFile(
        "x.png", b"<svg/>", "image/png")})
    assert bad.status_code == 400 and b"PNG, JPEG, GIF or WebP" in bad.content
    owner_client.post(_u("storefront"), {**_form(action="publish"), "logo": SimpleUploadedFile(
        "l.png", logo_art((1, 2, 3)), "image/png")})
    logo = StorefrontSettings.objects.get(store=store).published["logo"]
    page = owner_client.get("/s/shop/").content.decode()
    assert f"/media/store-images/{logo}" in page
    assert owner_client.get(f"/media/store-images/{logo}")["Content-Type"] == "image/png"


def test_invalid_values_are_form_errors_that_change_nothing(owner_client, store):
    response = owner_client.post(_u("storefront"), _form(discord_url="javascript:alert(1)"))
    assert response.status_code == 400 and b"https:// address" in response.content
    assert not StorefrontSettings.objects.filter(store=store).exclude(draft={}).exists()


def test_pages_are_created_edited_and_deleted(owner_client, store):
    owner_client.post(_u("storefront_pages"), {"title": "Refund policy", "body": "# Fair",
                                               "is_published": "on", "show_in_nav": "on"})
    page = StorePage.objects.get(store=store)
    assert page.slug == "refund-policy" and "<h1>Fair</h1>" in page.body_html
    assert b"Refund policy" in owner_client.get("/s/shop/").content
    owner_client.post(_u("storefront_page_edit", page.pk),
                      {"title": "Refunds", "slug": "refunds", "body": "x"})
    page.refresh_from_db()
    assert page.title == "Refunds" and not page.is_published
    owner_client.post(_u("storefront_page_delete", page.pk))
    assert not StorePage.objects.exists()


def test_domains_show_the_records_and_queue_a_check(owner_client, store,
                                                    django_capture_on_commit_callbacks):
    owner_client.post(_u("storefront_domains"), {"hostname": "Shop.Example.com"})
    domain = StoreDomain.objects.get(store=store)
    page = owner_client.get(_u("storefront_domains")).content.decode()
    assert domain.verification_token in page and "_shopkeep-challenge.shop.example.com" in page
    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(_u("storefront_domain_action", domain.pk, "check"))
    assert len(callbacks) == 1  # the DNS query is the worker's, never the request's
    owner_client.post(_u("storefront_domain_action", domain.pk, "remove"))
    assert not StoreDomain.objects.exists()


def test_maintenance_switch(owner_client, client, store):
    owner_client.post(_u("storefront_action", "maintenance"),
                      {"enabled": "on", "message": "Back at 8", "retry_minutes": "10"})
    row = StorefrontSettings.objects.get(store=store)
    assert row.maintenance_enabled and row.maintenance_retry_minutes == 10
    anonymous = type(owner_client)()
    response = anonymous.get("/s/shop/")
    assert response.status_code == 503 and response["Retry-After"] == "600"
    assert owner_client.get("/s/shop/").status_code == 200


def test_support_staff_cannot_open_the_store_builder(client, store):
    member = add_member(store, Role.SUPPORT)
    client.force_login(member.user)
    assert client.get(_u("storefront")).status_code == 403
    assert client.post(_u("storefront_action", "publish")).status_code == 403


def test_an_outsider_sees_404_for_every_builder_page(client, store):
    page = page_create(store=store, actor=Actor.for_user(owner_of(store)), title="Rules")
    domain = domain_add(store=store, actor=Actor.for_user(owner_of(store)),
                        hostname="shop.example.com")
    other = make_store(slug="other")
    client.force_login(owner_of(other))
    for url in (_u("storefront"), _u("storefront_pages"), _u("storefront_domains"),
                _u("storefront_page_edit", page.pk)):
        assert client.get(url).status_code == 404, url
    for url in (_u("storefront_action", "publish"), _u("storefront_page_delete", page.pk),
                _u("storefront_domain_action", domain.pk, "remove")):
        assert client.post(url).status_code == 404, url
    # Their own store's URLs with this store's object ids: the same 404.
    assert client.get(_u("storefront_page_edit", page.pk, slug="other")).status_code == 404
    assert client.post(_u("storefront_domain_action", domain.pk, "remove",
                          slug="other")).status_code == 404
    assert StorePage.objects.count() == 1 and StoreDomain.objects.count() == 1
