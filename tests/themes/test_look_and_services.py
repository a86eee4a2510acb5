from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shopkeep.core.errors import PermissionDenied, ServiceError
from shopkeep.demo_art import logo_art
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from shopkeep.themes.look import MAX_CSS_BYTES, resolve
from shopkeep.themes.models import StorefrontSettings
from shopkeep.themes.registry import get_theme, installed_themes
from shopkeep.themes.services import (
    page_create,
    storefront_discard_draft,
    storefront_draft_update,
    storefront_maintenance_set,
    storefront_publish,
)
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store(slug="shop")


@pytest.fixture
def actor(store):
    return Actor.for_user(owner_of(store))


def test_both_bundled_themes_are_installed_with_valid_manifests():
    themes = installed_themes()
    assert {"default", "midnight"} <= set(themes)
    assert themes["midnight"].dark and themes["midnight"].extends == "default"
    assert themes["midnight"].template_names("home.html") == [
        "themes/midnight/home.html", "themes/default/home.html"]


def test_an_uninstalled_theme_falls_back_to_the_default():
    assert get_theme("gone").name == "default"
    look = resolve({"theme": "gone", "options": {"accent": "#123456"}})
    assert look.theme.name == "default" and look.options["accent"] == "#123456"


def test_stored_garbage_never_reaches_a_template():
    look = resolve({"options": {"accent": "red; } body { x", "columns": "9"},
                    "discord_url": "javascript:alert(1)", "logo": "../../etc/passwd",
                    "widgets": {"goal": "yes"}, "goal_amount": "NaN"})
    assert look.options["accent"] == "#1d4ed8" and look.options["columns"] == "3"
    assert look.social == {} and look.images == {}
    assert look.widgets["goal"] is False and look.goal_amount is None


def test_draft_changes_are_invisible_until_published(store, actor):
    storefront_draft_update(store=store, actor=actor, changes={
        "tagline": "Best server", "theme": "midnight", "options": {"glow": False}})
    row = StorefrontSettings.objects.get(store=store)
    assert row.published == {} and row.draft["tagline"] == "Best server"
    assert row.has_unpublished_changes
    version = row.version
    row = storefront_publish(store=store, actor=actor)
    assert row.published["theme"] == "midnight" and row.version == version + 1
    assert not row.has_unpublished_changes
    assert list(AuditLog.objects.filter(store=store, action__startswith="storefront.")
                .values_list("action", flat=True).order_by("id")) == [
        "storefront.draft_updated", "storefront.published"]


def test_discarding_the_draft_restores_the_published_settings(store, actor):
    storefront_draft_update(store=store, actor=actor, changes={"tagline": "One"})
    storefront_publish(store=store, actor=actor)
    storefront_draft_update(store=store, actor=actor, changes={"tagline": "Two"})
    row = storefront_discard_draft(store=store, actor=actor)
    assert row.draft["tagline"] == "One"


@pytest.mark.parametrize(("changes", "field"), [
    ({"theme": "nope"}, "theme"),
    ({"options": {"accent": "blue"}}, "option_accent"),
    ({"options": {"unknown": 1}}, "option_unknown"),
    ({"discord_url": "http://discord.gg/x"}, "discord_url"),
    ({"server_address": "play.example.com; rm -rf"}, "server_address"),
    ({"tagline": "x" * 121}, "tagline"),
    ({"goal_amount": "-5"}, "goal_amount"),
    ({"goal_amount": "1e400"}, "goal_amount"),
    ({"max_players": 0}, "max_players"),
    ({"custom_css": "a{}" * (MAX_CSS_BYTES // 3 + 1)}, "custom_css"),
    ({"widgets": {"mining": True}}, "widgets"),
    ({"logo": "../x.png"}, "logo"),
])
def test_invalid_settings_are_refused_and_change_nothing(store, actor, changes, field):
    with pytest.raises(ServiceError) as err:
        storefront_draft_update(store=store, actor=actor, changes=changes)
    assert err.value.field == field
    assert not StorefrontSettings.objects.filter(store=store).exclude(draft={}).exists()
    assert not AuditLog.objects.filter(store=store, action="storefront.draft_updated").exists()


def test_branding_images_are_checked_by_their_bytes(store, actor):
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    with pytest.raises(ServiceError) as err:
        storefront_draft_update(store=store, actor=actor, changes={}, images={"logo": fake})
    assert err.value.field == "logo"
    good = SimpleUploadedFile("logo.png", logo_art((10, 20, 30)), content_type="image/png")
    row = storefront_draft_update(store=store, actor=actor, changes={}, images={"logo": good})
    assert resolve(row.draft).images["logo"].endswith(".png")


def test_support_staff_cannot_change_the_storefront(store):
    member = add_member(store, Role.SUPPORT)
    with pytest.raises(PermissionDenied):
        storefront_draft_update(store=store, actor=Actor.for_user(member.user),
                                changes={"tagline": "hi"})
    with pytest.raises(PermissionDenied):
        storefront_maintenance_set(store=store, actor=Actor.for_user(member.user),
                                   enabled=True)


def test_an_outsider_cannot_change_another_stores_storefront(store):
    other = make_store(slug="other")
    with pytest.raises(PermissionDenied):
        storefront_publish(store=store, actor=Actor.for_user(owner_of(other)))
    with pytest.raises(PermissionDenied):
        page_create(store=store, actor=Actor.for_user(owner_of(other)), title="Rules")


def test_pages_need_a_unique_address(store, actor):
    page_create(store=store, actor=actor, title="Rules")
    with pytest.raises(ServiceError) as err:
        page_create(store=store, actor=actor, title="Rules")
    assert err.value.field == "slug"


def test_page_markdown_is_sanitised(store, actor):
    page = page_create(store=store, actor=actor, title="FAQ",
                       body="<script>alert(1)</script>\n\n[x](javascript:alert(1)) **ok**")
    assert "<script>" not in page.body_html and "href=\"javascript" not in page.body_html
    assert "<strong>ok</strong>" in page.body_html
