"""Sign in with Discord and Steam on the storefront (checkout and My purchases).

A sign-in starts with a POST (the buttons), goes to the provider, and finishes on the host it
started on, in the browser that started it (``signin.services.attempt_finish``). What it
proves is kept in the session for the checkout (the order's identity snapshot takes the Steam
and Discord ids from here, never from a typed field) and linked to the customer when that is
safe (``signin.services.signin_apply``). Customers are store rows, not dashboard users: the
dashboard's allauth accounts are never touched.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from shopkeep.core.errors import ServiceError
from shopkeep.signin import discord as discord_client
from shopkeep.signin import steam as steam_client
from shopkeep.signin.config import discord_app, discord_redirect_uri, providers_offered
from shopkeep.signin.models import Provider, SigninAttempt
from shopkeep.signin.services import (
    attempt_fail,
    attempt_finish,
    attempt_open,
    attempt_start,
    attempt_verified,
    new_secret,
    signin_apply,
)
from shopkeep.storefront.signin_session import (
    BINDING_KEY,
    LABELS,
    remember_identities,
    verified_identities,
)
from shopkeep.storefront.views import (
    _customer,
    _payment_form_action,
    _render,
    _session_key,
    _store,
)
from shopkeep.stores.models import Store
from shopkeep.themes.public_urls import shop_absolute_url

log = logging.getLogger(__name__)

def safe_next(request: HttpRequest, store: Store, raw: str | None) -> str:
    """A path inside this store, else the account page: ``next`` never leaves the store."""
    fallback = reverse("storefront:account", args=[store.slug])
    home = reverse("storefront:home", args=[store.slug])
    if (not raw or len(raw) > 500 or not raw.startswith("/") or raw.startswith("//")
            or "\\" in raw or any(ord(c) < 32 for c in raw)
            or not url_has_allowed_host_and_scheme(raw, allowed_hosts=None)
            or not raw.startswith(home)):
        return fallback
    return raw


def _binding(request: HttpRequest, store: Store) -> str:
    key = BINDING_KEY.format(store.pk)
    value = request.session.get(key)
    if not isinstance(value, str) or len(value) < 32:
        value = new_secret()
        request.session[key] = value
    return value


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _steam_return_to(request: HttpRequest, store: Store, state: str) -> str:
    path = reverse("storefront:signin_steam_callback", args=[store.slug])
    return shop_absolute_url(request, path) + "?" + urlencode({"state": state})


@require_http_methods(["GET", "POST"])
def signin_start(request: HttpRequest, store_slug: str, provider: str) -> HttpResponse:
    """GET: a page with the button (a link target that changes nothing); POST: go."""
    store = _store(store_slug)
    if provider not in LABELS:
        raise Http404("No such sign-in")
    next_path = safe_next(request, store, request.POST.get("next") or request.GET.get("next"))
    if provider not in providers_offered(store):
        messages.error(request, f"Sign-in with {LABELS[provider]} is not available in this "
                       "store.")
        return redirect(next_path)
    if request.method == "GET":
        return _payment_form_action(store, _render(request, store, "signin_start.html", {
            "provider": provider, "label": LABELS[provider], "next": next_path}), payment=False)
    binding = _binding(request, store)
    finish_url = shop_absolute_url(
        request, reverse("storefront:signin_finish", args=[store.slug, provider]))
    try:
        if provider == Provider.DISCORD:
            app = discord_app(store)
            if app is None:
                raise Http404("No Discord application")
            redirect_uri = discord_redirect_uri(request)
            verifier = discord_client.new_code_verifier()
            attempt = attempt_start(store=store, provider=provider, binding=binding,
                                    next_path=next_path, finish_url=finish_url,
                                    redirect_uri=redirect_uri, app_source=app.source,
                                    code_verifier=verifier)
            url = discord_client.authorize_url(app, state=attempt.state, code_verifier=verifier,
                                               redirect_uri=redirect_uri)
        else:
            attempt = attempt_start(store=store, provider=provider, binding=binding,
                                    next_path=next_path, finish_url=finish_url)
            return_to = _steam_return_to(request, store, attempt.state)
            url = steam_client.redirect_url(return_to=return_to, realm=_origin(return_to))
    except steam_client.SteamSigninError as exc:
        log.warning("steam sign-in could not start: %s", exc)
        messages.error(request, "Steam is not answering right now; try again in a minute.")
        return redirect(next_path)
    return redirect(url)


def _finish(request: HttpRequest, store: Store, attempt: SigninAttempt) -> HttpResponse:
    label = LABELS[attempt.provider]
    current = _customer(request, store)
    try:
        result = signin_apply(store=store, attempt=attempt, signed_in=current)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(attempt.next_path or reverse("storefront:home", args=[store.slug]))
    identities = verified_identities(request, store)
    if result.customer is not None and (current is None or current.pk != result.customer.pk):
        # A new session key on every change of who is signed in (session fixation); the
        # basket and the verified ids travel along, the old customer's ids do not.
        request.session.cycle_key()
        request.session[_session_key(store)] = result.customer.pk
        identities = {}
    identities[attempt.provider] = {"id": attempt.uid, "username": attempt.username}
    if result.customer is not None:
        for provider in LABELS:
            uid = getattr(result.customer, f"{provider}_id")
            if getattr(result.customer, f"{provider}_linked_at") and uid:
                identities.setdefault(provider, {
                    "id": uid, "username": getattr(result.customer, f"{provider}_username")})
    remember_identities(request, store, identities)
    messages.success(request, result.message or f"Signed in with {label}.")
    return redirect(attempt.next_path or reverse("storefront:account", args=[store.slug]))


def _refused(request: HttpRequest, store: Store, provider: str, next_path: str) -> HttpResponse:
    messages.error(request, f"{LABELS[provider]} did not confirm the sign-in, so nothing "
                   "changed. Please try again.")
    return redirect(next_path or reverse("storefront:home", args=[store.slug]))


@require_GET
def discord_callback(request: HttpRequest) -> HttpResponse:
    """Discord sends the browser here (one address for every store, on the platform host: an
    OAuth application has a fixed list of redirect URIs). It finishes on the store's host."""
    attempt = attempt_open(provider=Provider.DISCORD, state=request.GET.get("state", ""))
    if attempt is None:
        return HttpResponse("This sign-in link is invalid, was already used or has expired. "
                            "Go back to the store and sign in again.", status=400,
                            content_type="text/plain; charset=utf-8")
    app = discord_app(attempt.store)
    code = request.GET.get("code", "")
    account = None
    if app is not None and app.source == attempt.app_source and code and len(code) <= 256:
        try:
            account = discord_client.account_from_code(
                app, code=code, code_verifier=attempt.code_verifier,
                redirect_uri=attempt.redirect_uri)
        except discord_client.DiscordSigninError as exc:
            log.warning("discord sign-in refused: %s", exc)
    if account is None:
        attempt_fail(attempt=attempt, reason=request.GET.get("error", "") or "refused")
        return redirect(attempt.finish_url + "?" + urlencode({"state": attempt.state,
                                                              "error": "refused"}))
    try:
        ticket = attempt_verified(attempt=attempt, uid=account.id, username=account.username,
                                  email=account.email, email_verified=account.email_verified)
    except ServiceError:
        return redirect(attempt.finish_url + "?" + urlencode({"state": attempt.state,
                                                              "error": "refused"}))
    return redirect(attempt.finish_url + "?" + urlencode({"state": attempt.state,
                                                          "ticket": ticket}))


@require_GET
def signin_finish(request: HttpRequest, store_slug: str, provider: str) -> HttpResponse:
    store = _store(store_slug)
    if provider not in LABELS:
        raise Http404("No such sign-in")
    state = request.GET.get("state", "")
    if request.GET.get("error"):
        attempt = SigninAttempt.objects.filter(store=store, state=state[:64]).first()
        if attempt is not None:
            attempt_fail(attempt=attempt, reason="refused")
        return _refused(request, store, provider, attempt.next_path if attempt else "")
    try:
        attempt = attempt_finish(store=store, state=state, ticket=request.GET.get("ticket", ""),
                                 binding=request.session.get(BINDING_KEY.format(store.pk), ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("storefront:account_login", store_slug=store.slug)
    return _finish(request, store, attempt)


@require_GET
def steam_callback(request: HttpRequest, store_slug: str) -> HttpResponse:
    """Steam sends the browser back here, on the host the sign-in started on."""
    store = _store(store_slug)
    attempt = attempt_open(provider=Provider.STEAM, state=request.GET.get("state", ""),
                           store=store)
    if attempt is None:
        messages.error(request, "This Steam sign-in is invalid, was already used or has "
                       "expired. Please sign in again.")
        return redirect("storefront:account_login", store_slug=store.slug)
    if request.GET.get("openid.mode") != "id_res":
        attempt_fail(attempt=attempt, reason="cancelled")
        return _refused(request, store, Provider.STEAM, attempt.next_path)
    try:
        steam_id = steam_client.steam_id_from_response(
            query=request.GET.dict(), return_to=_steam_return_to(request, store, attempt.state))
    except steam_client.SteamSigninError as exc:
        log.warning("steam sign-in refused: %s", exc)
        attempt_fail(attempt=attempt, reason="refused")
        return _refused(request, store, Provider.STEAM, attempt.next_path)
    try:
        ticket = attempt_verified(attempt=attempt, uid=steam_id,
                                  username=steam_client.persona_name(steam_id))
        attempt = attempt_finish(store=store, state=attempt.state, ticket=ticket,
                                 binding=request.session.get(BINDING_KEY.format(store.pk), ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("storefront:account_login", store_slug=store.slug)
    return _finish(request, store, attempt)
