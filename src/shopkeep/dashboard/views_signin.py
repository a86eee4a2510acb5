"""Settings > Sign-in: which sign-ins the storefront offers, and the store's own Discord
application (its secret sealed like the Stripe keys and never shown again)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from shopkeep.core.errors import ServiceError
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.views import form_error
from shopkeep.signin.config import (
    discord_app,
    discord_redirect_uri,
    signin_settings,
    steam_configured,
)
from shopkeep.signin.services import signin_settings_update
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm


class SigninSettingsForm(forms.Form):
    discord_enabled = forms.BooleanField(required=False, label="Offer Sign in with Discord")
    steam_enabled = forms.BooleanField(required=False, label="Offer Sign in with Steam")
    steam_required = forms.BooleanField(
        required=False, label="Every purchase needs a Steam sign-in",
        help_text="For a Steam game: the buyer's Steam64 id comes from Steam instead of being "
                  "typed. Products can also require a sign-in one by one (product page).")
    discord_client_id = forms.CharField(
        required=False, max_length=20, label="Your Discord application id",
        help_text="Optional: leave empty to use the platform's application.")
    discord_client_secret = forms.CharField(
        required=False, max_length=200, strip=False, label="Client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off",
                                                              "spellcheck": "false"}),
        help_text="Developer Portal > your application > OAuth2 > Client secret. Stored "
                  "encrypted; never shown again. Leave empty to keep the saved one.")

    def clean(self):
        data = super().clean()
        if data.get("discord_client_secret") and not data.get("discord_client_id"):
            self.add_error("discord_client_id", "Give the application id with its secret.")
        return data


@store_view(Perm.STORE_SETTINGS)
def signin_settings_page(request: HttpRequest) -> HttpResponse:
    store = request.store
    row = signin_settings(store)
    form = SigninSettingsForm(request.POST or None, initial={
        "discord_enabled": row.discord_enabled, "steam_enabled": row.steam_enabled,
        "steam_required": row.steam_required, "discord_client_id": row.discord_client_id})
    if request.method == "POST" and "use_platform_app" in request.POST:
        signin_settings_update(store=store, actor=Actor.for_user(request.user),
                               discord_enabled=row.discord_enabled,
                               steam_enabled=row.steam_enabled,
                               steam_required=row.steam_required, clear_discord_app=True)
        messages.success(request, "Your Discord application is removed; Sign in with Discord "
                         "uses the platform's application again.")
        return redirect("dashboard:signin_settings", store_slug=store.slug)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        client_id = data["discord_client_id"].strip()
        secret = data["discord_client_secret"]
        # A new id needs its secret; the saved secret stays with the saved id.
        change_app = bool(secret) or (client_id and client_id != row.discord_client_id)
        try:
            signin_settings_update(
                store=store, actor=Actor.for_user(request.user),
                discord_enabled=data["discord_enabled"], steam_enabled=data["steam_enabled"],
                steam_required=data["steam_required"],
                discord_client_id=client_id if change_app else None,
                discord_client_secret=secret if change_app else None)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Sign-in settings saved. The checkout and My purchases "
                             "pages show the buttons from now on.")
            return redirect("dashboard:signin_settings", store_slug=store.slug)
    app = discord_app(store, row)
    return render(request, "dashboard/signin.html", {
        "form": form, "tab": "signin", "row": row, "discord_app": app,
        "platform_discord": bool(settings.DISCORD_CLIENT_ID),
        "steam_configured": steam_configured(),
        "redirect_uri": discord_redirect_uri(request)},
        status=400 if form.errors else 200)
