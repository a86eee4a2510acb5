from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.customers import bans, notes, selectors
from shopkeep.customers.identity import identity_label
from shopkeep.customers.models import Customer, CustomerBan
from shopkeep.customers.payloads import country_name
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.customer_page import customer_page
from shopkeep.dashboard.exports import EXPORTS, export_rows
from shopkeep.dashboard.views_commands import manual_forms
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm, role_has


@store_view(Perm.CUSTOMERS_VIEW)
def customer_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:100]
    page = Paginator(selectors.customers(store=request.store, search=search), 50).get_page(
        request.GET.get("page"))
    return render(request, "dashboard/customers/customer_list.html", {
        "page": page, "q": search, "player_label": identity_label(request.store.game)})


class NoteForm(forms.Form):
    body = forms.CharField(max_length=2000, label="Note", widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Only your team sees notes.")


class CustomerBanForm(forms.Form):
    kinds = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Ban by")
    reason = forms.CharField(max_length=300, help_text="For your team and the audit log; the "
                             "buyer never sees it.")
    public_message = forms.CharField(max_length=300, required=False, label="Message to the buyer",
                                     help_text="Shown at checkout instead of the order. Empty: "
                                     f"“{bans.NEUTRAL_MESSAGE}”")

    def __init__(self, *args, identifiers: list[tuple[str, str, bool]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(CustomerBan.Kind.choices)
        self.fields["kinds"].choices = [(k, f"{labels[k]}: {v}") for k, v, done in identifiers
                                        if not done]
        self.fields["kinds"].initial = [k for k, _, done in identifiers if not done]


def render_customer(request: HttpRequest, customer: Customer, status: int = 200,
                    **forms_) -> HttpResponse:
    store = request.store
    page = customer_page(store=store, customer=customer)
    can_deliver = role_has(request.membership.role, Perm.SERVERS_MANAGE)
    can_ban = role_has(request.membership.role, Perm.CUSTOMERS_MANAGE)
    context = {
        "customer": customer, "page": page, "country_name": country_name(customer.country),
        "player_label": identity_label(store.game), "referrals": customer.referrals.count(),
        "can_deliver": can_deliver, "can_ban": can_ban,
        "note_form": forms_.pop("note_form", None) or NoteForm(),
        "ban_form": forms_.pop("ban_form", None) or CustomerBanForm(
            identifiers=page.identifiers),
    }
    if can_deliver:
        context.update(manual_forms(store))
    context.update(forms_)
    return render(request, "dashboard/customers/customer_detail.html", context, status=status)


@store_view(Perm.CUSTOMERS_VIEW)
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_for_store(Customer.objects.select_related("referred_by"), request.store,
                             pk=customer_id)
    return render_customer(request, customer)


@require_POST
@store_view(Perm.CUSTOMERS_VIEW)
def customer_note_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_for_store(Customer, request.store, pk=customer_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            notes.note_add(store=request.store, actor=Actor.for_user(request.user),
                           customer=customer, body=form.cleaned_data["body"])
        except ServiceError as exc:
            form.add_error("body", exc.message)
        else:
            messages.success(request, "Note saved; only your team sees it.")
            return redirect("dashboard:customer_detail", store_slug=request.store.slug,
                            customer_id=customer.pk)
    return render_customer(request, customer, status=400, note_form=form)


@require_POST
@store_view(Perm.CUSTOMERS_MANAGE)
def customer_ban(request: HttpRequest, customer_id: int) -> HttpResponse:
    store = request.store
    customer = get_for_store(Customer, store, pk=customer_id)
    page = customer_page(store=store, customer=customer)
    form = CustomerBanForm(request.POST, identifiers=page.identifiers)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = bans.customer_ban(store=store, actor=Actor.for_user(request.user),
                                     customer=customer, kinds=data["kinds"],
                                     reason=data["reason"],
                                     public_message=data["public_message"])
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Banned {len(made)} identifier(s): checkout now refuses "
                             f"{customer.email} with the message you set. Lift it here any time.")
            return redirect("dashboard:customer_detail", store_slug=store.slug,
                            customer_id=customer.pk)
    return render_customer(request, customer, status=400, ban_form=form)


class BanForm(forms.Form):
    kind = forms.ChoiceField(choices=CustomerBan.Kind.choices, label="Ban by")
    value = forms.CharField(max_length=254)
    reason = forms.CharField(max_length=300, help_text="For your team and the audit log.")
    public_message = forms.CharField(max_length=300, required=False, label="Message to the buyer",
                                     help_text=f"Empty: “{bans.NEUTRAL_MESSAGE}”")


@store_view(Perm.CUSTOMERS_VIEW)
def ban_list(request: HttpRequest) -> HttpResponse:
    """Every ban of the store; an owner or admin adds one by value (an IP, a name) here."""
    store = request.store
    form = BanForm(request.POST or None)
    if request.method == "POST":
        if not role_has(request.membership.role, Perm.CUSTOMERS_MANAGE):
            raise PermissionDenied
        if form.is_valid():
            try:
                ban = bans.ban_create(store=store, actor=Actor.for_user(request.user),
                                      **form.cleaned_data)
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Banned {ban.get_kind_display()} {ban.value}: "
                                 "checkout refuses it from now on.")
                return redirect("dashboard:bans", store_slug=store.slug)
    show = request.GET.get("show", "active")
    qs = CustomerBan.objects.filter(store=store).select_related("customer")
    if show != "all":
        qs = qs.filter(lifted_at__isnull=True)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/customers/ban_list.html", {
        "form": form, "page": page, "show": show,
        "can_ban": role_has(request.membership.role, Perm.CUSTOMERS_MANAGE)},
        status=400 if request.method == "POST" else 200)


@require_POST
@store_view(Perm.CUSTOMERS_MANAGE)
def ban_lift(request: HttpRequest, ban_id: int) -> HttpResponse:
    store = request.store
    ban = get_for_store(CustomerBan, store, pk=ban_id)
    try:
        bans.ban_lift(store=store, actor=Actor.for_user(request.user), ban=ban)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Lifted the ban on {ban.get_kind_display()} {ban.value}; "
                         "checkout accepts it again.")
    back = request.POST.get("next", "")
    if back == "customer" and ban.customer_id:
        return redirect("dashboard:customer_detail", store_slug=store.slug,
                        customer_id=ban.customer_id)
    return redirect("dashboard:bans", store_slug=store.slug)


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, e.label) for k, e in EXPORTS.items()])
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise forms.ValidationError("The end date is before the start date.")
            if (data["end"] - data["start"]).days > 3660:
                raise forms.ValidationError("Export at most ten years at a time.")
        return data


@store_view(Perm.STORE_VIEW)
def exports(request: HttpRequest) -> HttpResponse:
    """Pick what and which days (store time zone); the CSV streams as it is read."""
    store = request.store
    today = timezone.localdate(timezone=ZoneInfo(store.time_zone))
    form = ExportForm(request.GET or None,
                      initial={"start": today - timedelta(days=29), "end": today})
    if request.GET and form.is_valid():
        kind = form.cleaned_data["kind"]
        if not role_has(request.membership.role, EXPORTS[kind].perm):
            raise PermissionDenied
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        response = StreamingHttpResponse(
            export_rows(store=store, kind=kind, start=start, end=end),
            content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (f'attachment; filename="{store.slug}-{kind}-'
                                           f'{start:%Y%m%d}-{end:%Y%m%d}.csv"')
        response["Cache-Control"] = "private, no-store"
        return response
    return render(request, "dashboard/exports.html", {"form": form},
                  status=400 if request.GET else 200)
