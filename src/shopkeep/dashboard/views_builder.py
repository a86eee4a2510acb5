"""Store Builder: branding, theme and layout, custom CSS, widgets, Markdown pages, domains,
maintenance; draft, preview, publish. Views only orchestrate the themes services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.forms_builder import (
    BuilderForm,
    DomainForm,
    MaintenanceForm,
    PageForm,
    theme_summaries,
)
from shopkeep.dashboard.views import form_error
from shopkeep.storefront.shop import PREVIEW_KEY
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm
from shopkeep.themes import domains as domain_services
from shopkeep.themes import services
from shopkeep.themes.look import resolve
from shopkeep.themes.models import StoreDomain, StorePage
from shopkeep.themes.public_urls import store_public_url


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


@store_view(Perm.STORE_SETTINGS)
def builder(request: HttpRequest) -> HttpResponse:
    store = request.store
    row = services.storefront_settings_get(store=store)
    form = BuilderForm(request.POST or None, request.FILES or None, look=resolve(row.draft))
    if request.method == "POST" and form.is_valid():
        try:
            services.storefront_draft_update(store=store, actor=_actor(request),
                                             changes=form.changes(), images=form.images())
        except ServiceError as exc:
            form_error(form, exc)
        else:
            action = request.POST.get("action", "save")
            if action == "publish":
                services.storefront_publish(store=store, actor=_actor(request))
                messages.success(request, "Published: buyers see the new design now.")
            elif action == "preview":
                request.session[PREVIEW_KEY.format(store.pk)] = True
                return redirect("storefront:home", store_slug=store.slug)
            else:
                messages.success(request, "Draft saved. Preview it, then publish when ready; "
                                 "buyers still see the published design.")
            return redirect("dashboard:storefront", store_slug=store.slug)
    return render(request, "dashboard/storefront/builder.html", {
        "form": form, "row": row, "themes": theme_summaries(),
        "maintenance_form": MaintenanceForm(initial={
            "enabled": row.maintenance_enabled, "message": row.maintenance_message,
            "retry_minutes": row.maintenance_retry_minutes}),
        "public_url": store_public_url(store, "/"), "tab": "design",
    }, status=400 if form.errors else 200)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def builder_action(request: HttpRequest, action: str) -> HttpResponse:
    store = request.store
    if action == "publish":
        services.storefront_publish(store=store, actor=_actor(request))
        messages.success(request, "Published: buyers see the new design now.")
    elif action == "discard":
        services.storefront_discard_draft(store=store, actor=_actor(request))
        messages.info(request, "Draft discarded: it matches the published design again.")
    elif action == "preview":
        request.session[PREVIEW_KEY.format(store.pk)] = True
        return redirect("storefront:home", store_slug=store.slug)
    elif action == "maintenance":
        form = MaintenanceForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Expected back: a number of minutes from 1 to 10080.")
        else:
            try:
                row = services.storefront_maintenance_set(
                    store=store, actor=_actor(request), enabled=form.cleaned_data["enabled"],
                    message=form.cleaned_data["message"],
                    retry_minutes=form.cleaned_data["retry_minutes"])
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Maintenance is on: buyers get a 503 page; you, "
                                 "your staff and existing orders carry on."
                                 if row.maintenance_enabled else "Maintenance is off: the "
                                 "store is open again.")
    else:
        messages.error(request, "Unknown action.")
    return redirect("dashboard:storefront", store_slug=store.slug)


# -- pages ------------------------------------------------------------------------------------

@store_view(Perm.STORE_SETTINGS)
def page_list(request: HttpRequest) -> HttpResponse:
    store = request.store
    form = PageForm(request.POST or None, initial={"show_in_nav": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            page = services.page_create(store=store, actor=_actor(request), title=data["title"],
                                        slug=data["slug"], body=data["body"],
                                        is_published=data["is_published"],
                                        show_in_nav=data["show_in_nav"],
                                        sort_order=data["sort_order"] or 0)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Page {page.title} created"
                             + (" and published." if page.is_published else
                                " as a draft; only you see it in the preview."))
            return redirect("dashboard:storefront_pages", store_slug=store.slug)
    return render(request, "dashboard/storefront/pages.html", {
        "pages": StorePage.objects.filter(store=store), "form": form, "tab": "pages"},
        status=400 if form.errors else 200)


@store_view(Perm.STORE_SETTINGS)
def page_edit(request: HttpRequest, page_id: int) -> HttpResponse:
    store = request.store
    page = get_for_store(StorePage, store, pk=page_id)
    form = PageForm(request.POST or None, initial={
        "title": page.title, "slug": page.slug, "body": page.body,
        "is_published": page.is_published, "show_in_nav": page.show_in_nav,
        "sort_order": page.sort_order})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.page_update(store=store, actor=_actor(request), page=page,
                                 title=data["title"], slug=data["slug"], body=data["body"],
                                 is_published=data["is_published"],
                                 show_in_nav=data["show_in_nav"],
                                 sort_order=data["sort_order"] or 0)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Page saved.")
            return redirect("dashboard:storefront_pages", store_slug=store.slug)
    return render(request, "dashboard/storefront/page_edit.html", {
        "page": page, "form": form, "tab": "pages"}, status=400 if form.errors else 200)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def page_delete(request: HttpRequest, page_id: int) -> HttpResponse:
    page = get_for_store(StorePage, request.store, pk=page_id)
    services.page_delete(store=request.store, actor=_actor(request), page=page)
    messages.success(request, f"Page {page.title} deleted.")
    return redirect("dashboard:storefront_pages", store_slug=request.store.slug)


# -- domains ----------------------------------------------------------------------------------

@store_view(Perm.STORE_SETTINGS)
def domain_list(request: HttpRequest) -> HttpResponse:
    store = request.store
    form = DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain = domain_services.domain_add(store=store, actor=_actor(request),
                                                hostname=form.cleaned_data["hostname"])
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{domain.hostname} added. Create the two DNS records "
                             "below, then press Check.")
            return redirect("dashboard:storefront_domains", store_slug=store.slug)
    suffix = settings.SHOPKEEP_STORE_DOMAIN
    return render(request, "dashboard/storefront/domains.html", {
        "domains": StoreDomain.objects.filter(store=store), "form": form, "tab": "domains",
        "cname_target": settings.SHOPKEEP_CNAME_TARGET,
        "subdomain": f"{store.slug}.{suffix}" if suffix else "",
    }, status=400 if form.errors else 200)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def domain_action(request: HttpRequest, domain_id: int, action: str) -> HttpResponse:
    store = request.store
    domain = get_for_store(StoreDomain, store, pk=domain_id)
    if action == "check":
        domain_services.domain_check_request(store=store, actor=_actor(request), domain=domain)
        messages.info(request, f"Checking the DNS of {domain.hostname}; reload this page in "
                      "a few seconds to see the result.")
    elif action == "remove":
        domain_services.domain_remove(store=store, actor=_actor(request), domain=domain)
        messages.success(request, f"{domain.hostname} removed; it is no longer served.")
    elif action in ("primary", "unset-primary"):
        chosen = domain if action == "primary" else None
        try:
            domain_services.domain_set_primary(store=store, actor=_actor(request),
                                               domain=chosen)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, (
                f"{domain.hostname} is now the store's main address: links, the sitemap and "
                "canonical tags use it, and the store's other domains redirect there. "
                f"/s/{store.slug}/ keeps working.") if chosen else (
                f"{domain.hostname} is no longer the main address; no domain redirects now."))
    else:
        messages.error(request, "Unknown action.")
    return redirect("dashboard:storefront_domains", store_slug=store.slug)
