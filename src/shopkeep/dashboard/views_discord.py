"""Settings > Discord (the bot, its check) and a product's Discord roles (the role picker).

Views only: the writes are shopkeep.discord.services, the reads shopkeep.discord.selectors;
nothing here talks to Discord (the check runs in the worker and the page polls for it).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.catalog.models import Product
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.views import form_error
from shopkeep.discord import selectors, services
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm

REMOVE_LABELS = {"refund": "Remove when the order is refunded",
                 "chargeback": "Remove when a chargeback is opened",
                 "subscription_cancel": "Remove when the subscription ends"}


class DiscordForm(forms.Form):
    bot_token = forms.CharField(
        label="Bot token", max_length=200, required=False, strip=True,
        # render_value=False: the token never travels back to the browser, even after an error.
        widget=forms.PasswordInput(render_value=False, attrs={
            "autocomplete": "off", "spellcheck": "false"}),
        help_text="Developer Portal > your application > Bot > Reset Token. Stored encrypted, "
                  "never shown again; leave empty to keep the saved one.")
    guild_id = forms.CharField(label="Server id", max_length=25,
                               widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                             "autocomplete": "off"}),
                               help_text="In Discord, with Developer Mode on: right-click the "
                                         "server > Copy Server ID.")
    public_key = forms.CharField(label="Application public key", max_length=80, required=False,
                                 widget=forms.TextInput(attrs={"autocomplete": "off",
                                                               "spellcheck": "false"}),
                                 help_text="Developer Portal > General Information > Public "
                                           "Key. Left empty, the check fills it in.")


@store_view(Perm.STORE_SETTINGS)
def discord_settings(request: HttpRequest) -> HttpResponse:
    store = request.store
    status = selectors.status(store=store, request=request)
    form = DiscordForm(request.POST or None, initial={"guild_id": status["guild_id"],
                                                      "public_key": status["public_key"]})
    if request.method == "POST" and form.is_valid():
        try:
            services.discord_settings_update(store=store, actor=Actor.for_user(request.user),
                                             **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Discord settings saved. Checking the bot with Discord "
                             "now: the findings appear below within a few seconds.")
            return redirect("dashboard:discord", store_slug=store.slug)
    return render(request, "dashboard/discord.html", {
        "form": form, "tab": "discord", "discord": status},
        status=400 if form.errors else 200)


@store_view(Perm.STORE_SETTINGS)
def discord_status(request: HttpRequest) -> HttpResponse:
    """The check's card alone, for htmx to poll while the worker asks Discord."""
    return render(request, "dashboard/_discord_status.html", {
        "discord": selectors.status(store=request.store, request=request)})


@require_POST
@store_view(Perm.STORE_SETTINGS)
def discord_check(request: HttpRequest) -> HttpResponse:
    try:
        services.discord_check_request(store=request.store, actor=Actor.for_user(request.user))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Checking the bot with Discord: the findings appear below "
                         "within a few seconds.")
    return redirect("dashboard:discord", store_slug=request.store.slug)


@require_POST
@store_view(Perm.STORE_SETTINGS)
def discord_disconnect(request: HttpRequest) -> HttpResponse:
    services.discord_disconnect(store=request.store, actor=Actor.for_user(request.user))
    messages.success(request, "Discord bot removed; its token is deleted. Roles not yet given "
                     "wait until a bot is set up again (then press Retry delivery).")
    return redirect("dashboard:discord", store_slug=request.store.slug)


@store_view(Perm.CATALOG_MANAGE)
def product_discord_roles(request: HttpRequest, product_id: int) -> HttpResponse:
    store = request.store
    product = get_for_store(Product.objects.alive(), store, pk=product_id)
    current = selectors.product_roles(product=product)
    status = selectors.status(store=store, request=request)
    error = ""
    if request.method == "POST":
        picked = request.POST.getlist("role_ids")
        typed = [part for part in request.POST.get("role_ids_text", "").replace(",", " ").split()]
        data = services.RolesInput(role_ids=[*picked, *typed][:50],
                                   remove_on=request.POST.getlist("remove_on"))
        try:
            services.product_discord_roles_set(store=store, actor=Actor.for_user(request.user),
                                               product=product, data=data)
        except ServiceError as exc:
            error = exc.message
            current = {**current, "role_ids": data.role_ids, "remove_on": data.remove_on}
        else:
            saved = selectors.product_roles(product=product)
            names = ", ".join(r["name"] for r in saved["roles"]) or "no Discord role"
            messages.success(request, f"{product.name} now gives {names}"
                             + (" on purchase." if saved["roles"] else "."))
            return redirect("dashboard:product_discord_roles", store_slug=store.slug,
                            product_id=product.pk)
    known_ids = {r["id"] for r in status["roles"]}
    return render(request, "dashboard/catalog/product_discord_roles.html", {
        "product": product, "discord": status, "current": current, "error": error,
        "unknown_ids": [r for r in current["role_ids"] if r not in known_ids],
        "remove_choices": list(REMOVE_LABELS.items()),
    }, status=400 if error else 200)
