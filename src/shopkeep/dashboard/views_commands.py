"""Test commands (a server, a command, a test player) and the live page of a command that
has no order (test or manual), with its review buttons; manual delivery for a customer."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.catalog.models import Product
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers.models import Customer
from shopkeep.dashboard.access import store_view
from shopkeep.delivery import adhoc, selectors, services
from shopkeep.delivery.models import GameServer
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm

_COMMAND_HELP = "Without the leading slash. Placeholders such as {player} are filled in."


class TestCommandForm(forms.Form):
    server = forms.TypedChoiceField(coerce=int)
    command = forms.CharField(max_length=501, help_text=_COMMAND_HELP)
    player_name = forms.CharField(max_length=64, required=False, label="Test player",
                                  help_text="Goes into {player}; use your own name to see the "
                                  "effect in game.")
    require_online = forms.BooleanField(required=False, label="Wait until the player is online")

    def __init__(self, *args, servers: list[GameServer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["server"].choices = [(s.pk, s.name) for s in servers]


class ManualCommandForm(forms.Form):
    server = forms.TypedChoiceField(coerce=int)
    command = forms.CharField(max_length=501, help_text=_COMMAND_HELP)
    reason = forms.CharField(max_length=300, help_text="Kept in the audit log.")
    require_online = forms.BooleanField(required=False, label="Wait until the player is online")

    def __init__(self, *args, servers: list[GameServer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["server"].choices = [(s.pk, s.name) for s in servers]


class ManualProductForm(forms.Form):
    product = forms.TypedChoiceField(coerce=int)
    quantity = forms.IntegerField(min_value=1, max_value=adhoc.MAX_MANUAL_QUANTITY, initial=1)
    reason = forms.CharField(max_length=300, help_text="Kept in the audit log.")

    def __init__(self, *args, products: list[Product], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.pk, p.name) for p in products]


def _servers(store) -> list[GameServer]:
    return list(GameServer.objects.alive().filter(store=store))


def _error(form: forms.Form, exc: ServiceError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@store_view(Perm.SERVERS_MANAGE)
def test_command(request: HttpRequest) -> HttpResponse:
    """``?server=`` and ``?command=`` prefill the form (the server page and the command
    editor link here)."""
    store = request.store
    servers = _servers(store)
    initial = {"server": request.GET.get("server"), "command": request.GET.get("command", "")}
    form = TestCommandForm(request.POST or None, initial=initial, servers=servers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            server = get_for_store(GameServer.objects.alive(), store, pk=data["server"])
            command = adhoc.command_send_test(
                store=store, actor=Actor.for_user(request.user), server=server,
                command=data["command"], player_name=data["player_name"],
                require_online=data["require_online"])
        except ServiceError as exc:
            _error(form, exc)
        else:
            messages.success(request, f"Test command #{command.pk} queued on {server.name}; the "
                             "agent picks it up at its next poll and the result appears below.")
            return redirect("dashboard:adhoc_command", store_slug=store.slug,
                            command_id=command.pk)
    return render(request, "dashboard/servers/test_command.html", {
        "form": form, "servers": servers,
        "recent": selectors.adhoc_commands(store=store, limit=20)},
        status=400 if request.method == "POST" else 200)


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def server_manual_command(request: HttpRequest, server_id: int) -> HttpResponse:
    """"Run a command" on the server page: audited with a reason, through the queue."""
    store = request.store
    server = get_for_store(GameServer.objects.alive(), store, pk=server_id)
    try:
        command = adhoc.server_command_send(
            store=store, actor=Actor.for_user(request.user), server=server,
            command=request.POST.get("command", ""), reason=request.POST.get("reason", ""),
            player_name=request.POST.get("player_name", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:server_detail", store_slug=store.slug, server_id=server.pk)
    messages.success(request, f"Command #{command.pk} queued on {server.name}; the agent runs "
                     "it at its next poll.")
    return redirect("dashboard:adhoc_command", store_slug=store.slug, command_id=command.pk)


@store_view(Perm.SERVERS_MANAGE)
def adhoc_command(request: HttpRequest, command_id: int) -> HttpResponse:
    command = selectors.adhoc_command(store=request.store, command_id=command_id)
    return render(request, "dashboard/servers/adhoc_command.html", {"c": command})


@store_view(Perm.SERVERS_MANAGE)
def adhoc_command_live(request: HttpRequest, command_id: int) -> HttpResponse:
    """The live result box; 286 (htmx: stop polling) once the command is finished."""
    command = selectors.adhoc_command(store=request.store, command_id=command_id)
    response = render(request, "dashboard/servers/_adhoc_result.html", {"c": command})
    if command.is_finished and request.htmx:
        response.status_code = 286
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def adhoc_command_review(request: HttpRequest, command_id: int, decision: str) -> HttpResponse:
    store = request.store
    command = selectors.adhoc_command(store=store, command_id=command_id)
    decide = {"mark-delivered": services.command_mark_delivered,
              "run-again": services.command_run_again}.get(decision)
    if decide is None:
        return redirect("dashboard:adhoc_command", store_slug=store.slug, command_id=command.pk)
    try:
        decide(store=store, actor=Actor.for_user(request.user), order=None,
               command_id=command.pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Command #{command.pk} " + (
            "marked delivered." if decision == "mark-delivered"
            else "is queued again; the agent runs it at its next poll."))
    return redirect("dashboard:adhoc_command", store_slug=store.slug, command_id=command.pk)


def manual_forms(store, data=None, which: str = "") -> dict:
    products = list(Product.objects.alive().filter(store=store).order_by("name"))
    return {
        "manual_command_form": ManualCommandForm(data if which == "command" else None,
                                                 servers=_servers(store), prefix="mc"),
        "manual_product_form": ManualProductForm(data if which == "product" else None,
                                                 products=products, prefix="mp"),
    }


@require_POST
@store_view(Perm.SERVERS_MANAGE)
def customer_manual_delivery(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Deliver by hand: a product's purchase commands or one free-form command."""
    from shopkeep.dashboard.views_customers import render_customer  # it imports this module

    store = request.store
    customer = get_for_store(Customer, store, pk=customer_id)
    which = "product" if request.POST.get("kind") == "product" else "command"
    forms_ = manual_forms(store, request.POST, which)
    form = forms_["manual_product_form" if which == "product" else "manual_command_form"]
    actor = Actor.for_user(request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if which == "product":
                product = get_for_store(Product.objects.alive(), store, pk=data["product"])
                queued = adhoc.manual_product_deliver(
                    store=store, actor=actor, customer=customer, product=product,
                    reason=data["reason"], quantity=data["quantity"])
                messages.success(request, f"{queued.count} command(s) of {product.name} queued "
                                 f"for {customer.player_name or customer.email}; see them under "
                                 "Manual deliveries.")
            else:
                server = get_for_store(GameServer.objects.alive(), store, pk=data["server"])
                command = adhoc.manual_command_send(
                    store=store, actor=actor, customer=customer, server=server,
                    command=data["command"], reason=data["reason"],
                    require_online=data["require_online"])
                messages.success(request, f"Manual command #{command.pk} queued on "
                                 f"{server.name}.")
                return redirect("dashboard:adhoc_command", store_slug=store.slug,
                                command_id=command.pk)
        except ServiceError as exc:
            _error(form, exc)
        else:
            return redirect("dashboard:customer_detail", store_slug=store.slug,
                            customer_id=customer.pk)
    return render_customer(request, customer, status=400, **forms_)
