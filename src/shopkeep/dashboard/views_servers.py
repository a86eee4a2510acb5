"""Game servers: add (secrets shown once with a ready-to-paste agent config), status, queue,
rotate, release the agent lock, remove; delivery settings; the order's "Retry delivery"."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.absolute import site_origin
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.server_wizard import wizard_for
from shopkeep.delivery import selectors, services
from shopkeep.delivery.connection import agent_game, connection_string
from shopkeep.delivery.models import COMMAND_LEASE_SECONDS, GameServer
from shopkeep.delivery.versions import latest_agent_version
from shopkeep.orders.models import Order
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import GAMES
from shopkeep.stores.permissions import Perm

_SECRETS_KEY = "shopkeep_new_server_secrets"


class ServerForm(forms.Form):
    name = forms.CharField(max_length=60)
    game = forms.ChoiceField(choices=list(GAMES.items()))


class DeliverySettingsForm(forms.Form):
    max_attempts = forms.IntegerField(min_value=1, max_value=20, label="Attempts before a "
                                      "command fails for good")
    poll_seconds = forms.IntegerField(min_value=5, max_value=60, label="Agent poll interval "
                                      "(seconds)")


def _flash_secrets(request: HttpRequest, server: GameServer, server_secret: str,
                   store_secret: str | None) -> None:
    # Post/redirect/get: the secrets ride in the session for exactly one page view.
    request.session[_SECRETS_KEY] = {"server": server.pk, "server_secret": server_secret,
                                     "store_secret": store_secret}


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


@store_view(Perm.SERVERS_MANAGE)
def server_list(request: HttpRequest) -> HttpResponse:
    store = request.store
    form = ServerForm(request.POST or None, initial={"game": store.game})
    if request.method == "POST" and form.is_valid():
        try:
            server, secret, store_secret = services.server_create(
                store=store, actor=_actor(request), **form.cleaned_data)
        except ServiceError as exc:
            form.add_error("name" if exc.field == "name" else None, exc.message)
        else:
            _flash_secrets(request, server, secret, store_secret)
            return redirect("dashboard:server_detail", store_slug=store.slug,
                            server_id=server.pk)
    key = services.agent_key_for(store)
    settings_form = DeliverySettingsForm(initial={"max_attempts": key.max_attempts,
                                                  "poll_seconds": key.poll_seconds})
    return render(request, "dashboard/servers/server_list.html", {
        "servers": selectors.servers(store=store), "form": form, "key": key,
        "settings_form": settings_form, "games": GAMES,
        "counts": selectors.store_queue_counts(store=store)})


@store_view(Perm.SERVERS_MANAGE)
def server_detail(request: HttpRequest, server_id: int) -> HttpResponse:
    store = request.store
    server = get_for_store(GameServer.objects.alive(), store, pk=server_id)
    form = ServerForm(request.POST or None, initial={"name": server.name, "game": server.game})
    if request.method == "POST" and form.is_valid():
        try:
            services.server_update(store=store, actor=_actor(request), server=server,
                                   **form.cleaned_data)
        except ServiceError as exc:
            form.add_error("name" if exc.field == "name" else None, exc.message)
        else:
            messages.success(request, "Server saved.")
            return redirect("dashboard:server_detail", store_slug=store.slug,
                            server_id=server.pk)
    fresh = request.session.pop(_SECRETS_KEY, None)
    secrets = fresh if fresh and fresh.get("server") == server.pk else None
    origin = site_origin(request=request)
    if secrets:
        secrets = {**secrets, "connection": connection_string(
            origin=origin, server_secret=secrets["server_secret"],
            store_secret=secrets.get("store_secret"), game=server.game)}
    return render(request, "dashboard/servers/server_detail.html", {
        "server": server, "form": form, "secrets": secrets,
        "site_url": origin, "agent_game": agent_game(server.game),
        "wizard": wizard_for(server.game),
        "queue": selectors.server_queue(server=server),
        "latest_agent_version": latest_agent_version(),
        "executions": selectors.recent_executions(server=server),
        "adhoc": selectors.adhoc_commands(store=store, server=server, limit=10),
        "lease_seconds": COMMAND_LEASE_SECONDS})


@store_view(Perm.SERVERS_MANAGE)
def server_status(request: HttpRequest, server_id: int) -> HttpResponse:
    """The wizard's live "waiting for your agent" line. Once the first heartbeat is in, the
    answer is 286, htmx's "stop polling" status, with the green line as its body."""
    server = get_for_store(GameServer.objects.alive(), request.store, pk=server_id)
    response = render(request, "dashboard/servers/_agent_status.html", {"server": server})
    if server.last_heartbeat_at is not None and request.htmx:
        response.status_code = 286
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def server_rotate(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for_store(GameServer.objects.alive(), request.store, pk=server_id)
    secret = services.server_rotate_secret(store=request.store, actor=_actor(request),
                                           server=server)
    _flash_secrets(request, server, secret, None)
    messages.warning(request, "The old server secret no longer works. Put the new one in the "
                     "agent's configuration now.")
    return redirect("dashboard:server_detail", store_slug=request.store.slug,
                    server_id=server.pk)


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def store_secret_rotate(request: HttpRequest) -> HttpResponse:
    secret = services.store_secret_rotate(store=request.store, actor=_actor(request))
    request.session[_SECRETS_KEY] = {"server": None, "server_secret": None,
                                     "store_secret": secret}
    messages.warning(request, "The old store secret no longer works: every agent of this store "
                     "needs the new one.")
    return redirect("dashboard:store_secret", store_slug=request.store.slug)


@store_view(Perm.SERVERS_MANAGE)
def store_secret(request: HttpRequest) -> HttpResponse:
    fresh = request.session.pop(_SECRETS_KEY, None) or {}
    return render(request, "dashboard/servers/store_secret.html", {
        "store_secret": fresh.get("store_secret"), "key": services.agent_key_for(request.store)})


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def server_release(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for_store(GameServer.objects.alive(), request.store, pk=server_id)
    services.server_release_agent(store=request.store, actor=_actor(request), server=server)
    messages.success(request, "Released: the next agent to poll this server takes it over.")
    return redirect("dashboard:server_detail", store_slug=request.store.slug,
                    server_id=server.pk)


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def server_remove(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for_store(GameServer.objects.alive(), request.store, pk=server_id)
    cancelled = services.server_remove(store=request.store, actor=_actor(request),
                                       server=server)
    messages.success(request, f"Removed {server.name}; {cancelled} pending command(s) "
                     "cancelled (see each order's delivery log).")
    return redirect("dashboard:servers", store_slug=request.store.slug)


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def delivery_settings(request: HttpRequest) -> HttpResponse:
    form = DeliverySettingsForm(request.POST)
    if form.is_valid():
        try:
            services.delivery_settings_update(store=request.store, actor=_actor(request),
                                              **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Delivery settings saved.")
    else:
        messages.error(request, "Attempts are 1 to 20 and the poll interval 5 to 60 seconds.")
    return redirect("dashboard:servers", store_slug=request.store.slug)


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def order_retry_delivery(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_for_store(Order, request.store, pk=order_id)
    try:
        count = services.commands_retry(store=request.store, actor=_actor(request), order=order)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{count} failed command(s) are pending again.")
    return redirect("dashboard:order_detail", store_slug=request.store.slug, order_id=order.pk)


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def command_mark_delivered(request: HttpRequest, order_id: int, command_id: int) -> HttpResponse:
    order = get_for_store(Order, request.store, pk=order_id)
    try:
        services.command_mark_delivered(store=request.store, actor=_actor(request), order=order,
                                        command_id=command_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Command #{command_id} marked delivered; the order completes "
                         "once all of its commands have run.")
    return redirect("dashboard:order_detail", store_slug=request.store.slug, order_id=order.pk)


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def command_run_again(request: HttpRequest, order_id: int, command_id: int) -> HttpResponse:
    order = get_for_store(Order, request.store, pk=order_id)
    try:
        services.command_run_again(store=request.store, actor=_actor(request), order=order,
                                   command_id=command_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Command #{command_id} is queued again; the agent runs it at "
                         "its next poll.")
    return redirect("dashboard:order_detail", store_slug=request.store.slug, order_id=order.pk)
