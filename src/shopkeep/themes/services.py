"""Store Builder writes: draft edits, publish, maintenance, pages. Each is one transaction
with an audit row. Seed 002 has no event type for storefront design changes, so these write
no event row (webhook consumers would have nothing to subscribe to)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from shopkeep.core.errors import ServiceError
from shopkeep.core.text import has_control_chars, render_markdown
from shopkeep.core.uploads import check_image
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm
from shopkeep.themes.look import IMAGE_KEYS, validate_changes
from shopkeep.themes.models import StorefrontSettings, StorePage

IMAGE_DIR = "store-images"
MAX_BRAND_IMAGE_BYTES = {"logo": 512 * 1024, "banner": 2 * 1024 * 1024,
                         "favicon": 128 * 1024}
MAX_PAGE_BYTES = 64 * 1024
MAX_PAGES = 30


def storefront_settings_get(*, store: Store) -> StorefrontSettings:
    """The store's row, created empty (default theme, nothing set) on first use."""
    row = StorefrontSettings.objects.filter(store=store).first()
    if row is None:
        try:
            with transaction.atomic():
                row = StorefrontSettings.objects.create(store=store)
        except IntegrityError:  # created by a concurrent request
            row = StorefrontSettings.objects.get(store=store)
    return row


def _locked(store: Store) -> StorefrontSettings:
    storefront_settings_get(store=store)
    return StorefrontSettings.objects.select_for_update().get(store=store)


@transaction.atomic
def storefront_draft_update(*, store: Store, actor: Actor, changes: dict[str, Any],
                            images: dict[str, UploadedFile] | None = None) -> StorefrontSettings:
    """Merge ``changes`` (and uploaded branding images) into the draft. Buyers see nothing
    of it until ``storefront_publish``."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    clean = validate_changes(changes)
    row = _locked(store)
    draft = dict(row.draft or {})
    if "theme" in clean and clean["theme"] != draft.get("theme") and "options" not in clean:
        clean["options"] = {}  # another theme's options mean nothing to this one
    for key, upload in (images or {}).items():
        if key not in IMAGE_KEYS:
            raise ServiceError("unknown_setting", f"Unknown image {key!r}.", field=key)
        try:
            checked = check_image(upload, max_bytes=MAX_BRAND_IMAGE_BYTES[key])
        except ServiceError as exc:
            raise ServiceError(exc.code, exc.message, field=key) from None
        clean[key] = default_storage.save(f"{IMAGE_DIR}/{checked.name}", checked).split("/")[-1]
    changed = sorted(k for k, v in clean.items() if draft.get(k) != v)
    if not changed:
        return row
    draft.update(clean)
    row.draft = draft
    row.updated_at = timezone.now()
    row.save(update_fields=["draft", "updated_at"])
    audit_record(store=store, actor=actor, action="storefront.draft_updated", obj=row,
                 details={"changed": changed})
    return row


@transaction.atomic
def storefront_publish(*, store: Store, actor: Actor) -> StorefrontSettings:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    row = _locked(store)
    row.published = dict(row.draft or {})
    row.published_at = timezone.now()
    row.version = F("version") + 1
    row.save(update_fields=["published", "published_at", "version"])
    row.refresh_from_db()
    audit_record(store=store, actor=actor, action="storefront.published", obj=row,
                 details={"version": row.version, "theme": row.published.get("theme", "")})
    return row


@transaction.atomic
def storefront_discard_draft(*, store: Store, actor: Actor) -> StorefrontSettings:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    row = _locked(store)
    if row.draft == row.published:
        return row
    row.draft = dict(row.published or {})
    row.save(update_fields=["draft"])
    audit_record(store=store, actor=actor, action="storefront.draft_discarded", obj=row)
    return row


@transaction.atomic
def storefront_maintenance_set(*, store: Store, actor: Actor, enabled: bool, message: str = "",
                               retry_minutes: int = 30) -> StorefrontSettings:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    message = " ".join((message or "").split())
    if len(message) > 500 or has_control_chars(message):
        raise ServiceError("invalid_message", "Message: at most 500 characters of text.",
                           field="maintenance_message")
    if not 1 <= retry_minutes <= 7 * 24 * 60:
        raise ServiceError("invalid_retry", "Expected back: from 1 minute to 7 days.",
                           field="maintenance_retry_minutes")
    row = _locked(store)
    row.maintenance_enabled = enabled
    row.maintenance_message = message
    row.maintenance_retry_minutes = retry_minutes
    # The version keys the page cache: cached pages must not outlive the switch.
    row.version = F("version") + 1
    row.save(update_fields=["maintenance_enabled", "maintenance_message",
                            "maintenance_retry_minutes", "version"])
    row.refresh_from_db()
    audit_record(store=store, actor=actor, action="storefront.maintenance",
                 obj=row, details={"enabled": enabled})
    return row


# -- Markdown pages ---------------------------------------------------------------------------

def _page_fields(title: str, slug: str, body: str) -> tuple[str, str, str]:
    title = " ".join((title or "").split())
    if not title or len(title) > 80 or has_control_chars(title):
        raise ServiceError("invalid_title", "Title: 1 to 80 characters.", field="title")
    slug = slugify(slug or title)[:80]
    if not slug:
        raise ServiceError("invalid_slug", "Address: letters, digits and dashes.", field="slug")
    if len((body or "").encode()) > MAX_PAGE_BYTES:
        raise ServiceError("too_long", f"Text: at most {MAX_PAGE_BYTES // 1024} KB.",
                           field="body")
    return title, slug, body or ""


def _bump(store: Store) -> None:
    # Navigation lists pages, so every cached page of the store is stale now.
    storefront_settings_get(store=store)
    StorefrontSettings.objects.filter(store=store).update(version=F("version") + 1)


@transaction.atomic
def page_create(*, store: Store, actor: Actor, title: str, slug: str = "", body: str = "",
                is_published: bool = False, show_in_nav: bool = True,
                sort_order: int = 0) -> StorePage:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    title, slug, body = _page_fields(title, slug, body)
    if StorePage.objects.filter(store=store).count() >= MAX_PAGES:
        raise ServiceError("too_many_pages", f"A store has at most {MAX_PAGES} pages.")
    if StorePage.objects.filter(store=store, slug=slug).exists():
        raise ServiceError("slug_taken", "Another page has this address.", field="slug")
    page = StorePage.objects.create(store=store, title=title, slug=slug, body=body,
                                    body_html=render_markdown(body), is_published=is_published,
                                    show_in_nav=show_in_nav, sort_order=sort_order)
    _bump(store)
    audit_record(store=store, actor=actor, action="storefront.page_created", obj=page,
                 details={"title": title, "slug": slug})
    return page


@transaction.atomic
def page_update(*, store: Store, actor: Actor, page: StorePage, title: str, slug: str,
                body: str, is_published: bool, show_in_nav: bool,
                sort_order: int = 0) -> StorePage:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    title, slug, body = _page_fields(title, slug, body)
    page = StorePage.objects.select_for_update().get(pk=page.pk, store=store)
    if StorePage.objects.filter(store=store, slug=slug).exclude(pk=page.pk).exists():
        raise ServiceError("slug_taken", "Another page has this address.", field="slug")
    page.title, page.slug, page.body, page.body_html = title, slug, body, render_markdown(body)
    page.is_published, page.show_in_nav, page.sort_order = is_published, show_in_nav, sort_order
    page.updated_at = timezone.now()
    page.save()
    _bump(store)
    audit_record(store=store, actor=actor, action="storefront.page_updated", obj=page,
                 details={"title": title, "slug": slug, "published": is_published})
    return page


@transaction.atomic
def page_delete(*, store: Store, actor: Actor, page: StorePage) -> None:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    deleted, _ = StorePage.objects.filter(pk=page.pk, store=store).delete()
    if deleted:
        _bump(store)
        audit_record(store=store, actor=actor, action="storefront.page_deleted",
                     details={"title": page.title, "slug": page.slug})
