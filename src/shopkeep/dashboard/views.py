"""Dashboard pages: they read through selectors, write through services, and render."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.core.money import quantize
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.forms import (
    MemberAddForm,
    MemberRoleForm,
    StoreCreateForm,
    StoreSettingsForm,
    TokenCreateForm,
)
from shopkeep.dashboard.onboarding import onboarding_steps
from shopkeep.delivery import selectors as delivery_selectors
from shopkeep.orders.models import Order
from shopkeep.payments.selectors import going_live_problem
from shopkeep.stores import selectors, services
from shopkeep.stores.approval import approval_required, store_request_approval
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import ApiToken, Membership
from shopkeep.stores.permissions import Perm, role_has

_NEW_TOKEN_KEY = "shopkeep_new_token"


def form_error(form: Form, exc: ServiceError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(selectors.memberships_for_user(user=request.user))
    if not memberships:
        return redirect("dashboard:store_create")
    preferred = request.session.get("shopkeep_store")
    chosen = next((m for m in memberships if m.store.slug == preferred), memberships[0])
    return redirect("dashboard:overview", store_slug=chosen.store.slug)


@login_required
def store_create(request: HttpRequest) -> HttpResponse:
    form = StoreCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            store = services.store_create(owner=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{store.name} is ready.")
            return redirect("dashboard:overview", store_slug=store.slug)
    return render(request, "dashboard/store_create.html", {"form": form})


@store_view(Perm.STORE_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    store = request.store
    context = {
        "member_count": selectors.store_members(store=store).count(),
        "token_count": selectors.store_tokens(store=store).filter(revoked_at__isnull=True).count(),
        "recent_audit": (selectors.store_audit_log(store=store)[:10]
                         if role_has(request.membership.role, Perm.AUDIT_VIEW) else []),
    }
    if role_has(request.membership.role, Perm.STORE_SETTINGS):
        steps = onboarding_steps(store=store)
        if not all(step.done for step in steps):
            context["onboarding"] = {"steps": steps,
                                     "done": sum(step.done for step in steps)}
    if role_has(request.membership.role, Perm.ORDERS_VIEW):
        context["sales"] = _sales_last_30_days(store)
        context["sales_chart"] = _revenue_chart(store)
    if role_has(request.membership.role, Perm.SERVERS_MANAGE):
        context["delivery"] = {
            "queue": delivery_selectors.store_queue_counts(store=store),
            "duplicates": delivery_selectors.duplicate_agent_servers(store=store)}
    return render(request, "dashboard/overview.html", context)


def _revenue_chart(store):
    """Net revenue per day of the last 30 local days, in the store currency (Analytics has
    the rest)."""
    from shopkeep.dashboard.analytics import report
    from shopkeep.dashboard.charts import Series, bar_chart

    data = report(store=store, period="30d", grain="day")
    return bar_chart(title=f"Net revenue per day, last 30 days ({store.currency})",
                     labels=[b.label for b in data.buckets], unit=store.currency,
                     series=[Series("net revenue", [float(max(b.net(store.currency), 0))
                                                    for b in data.buckets], "chart-a")])


def _sales_last_30_days(store) -> dict:
    """Paid orders and net revenue (after refunds) of the mode the store is in: a store in
    test mode sees its test orders, a live one only real money. Per currency, because a
    store may have changed its currency."""
    since = timezone.now() - timedelta(days=30)
    rows = (Order.objects.filter(store=store, paid_at__gte=since, is_test_order=store.test_mode)
            .values("currency").annotate(count=Count("pk"), total=Sum("total"),
                                         refunded=Sum("refunded_amount"))
            .order_by("currency"))
    # SQLite sums decimals as floats; quantize to the currency's minor unit either way.
    revenue = [(quantize(row["total"] - row["refunded"], row["currency"]), row["currency"])
               for row in rows]
    return {"count": sum(row["count"] for row in rows), "test": store.test_mode,
            "revenue": revenue or [(quantize(Decimal("0"), store.currency), store.currency)]}


@store_view(Perm.STORE_SETTINGS)
def settings_view(request: HttpRequest) -> HttpResponse:
    store = request.store
    initial = {"name": store.name, "currency": store.currency, "time_zone": store.time_zone,
               "test_mode": store.test_mode, "game": store.game}
    form = StoreSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and store.test_mode \
            and not form.cleaned_data["test_mode"]:
        problem = going_live_problem(store=store)
        if problem:
            form.add_error("test_mode", problem)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_update_settings(store=store, actor=Actor.for_user(request.user),
                                           **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect("dashboard:settings", store_slug=store.slug)
    return render(request, "dashboard/settings.html", {
        "form": form, "tab": "general", "approval_required": approval_required()})


@store_view(Perm.STORE_SETTINGS)
@require_POST
def approval_request(request: HttpRequest) -> HttpResponse:
    try:
        store_request_approval(store=request.store, actor=Actor.for_user(request.user),
                               note=request.POST.get("note", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Approval requested: the platform team reviews the store "
                         "and answers by e-mail. Test payments keep working meanwhile.")
    return redirect("dashboard:settings", store_slug=request.store.slug)


@store_view(Perm.MEMBERS_MANAGE)
def members(request: HttpRequest) -> HttpResponse:
    store = request.store
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_add(store=store, actor=Actor.for_user(request.user),
                                **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Added {form.cleaned_data['email']}.")
            return redirect("dashboard:members", store_slug=store.slug)
    context = {"form": form, "members": selectors.store_members(store=store),
               "role_form": MemberRoleForm(), "tab": "members"}
    return render(request, "dashboard/members.html", context)


@require_POST
@store_view(Perm.MEMBERS_MANAGE)
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = get_for_store(Membership, request.store, pk=member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    else:
        try:
            services.member_change_role(store=request.store, actor=Actor.for_user(request.user),
                                        membership=membership, role=form.cleaned_data["role"])
            messages.success(request, f"{membership.user.email} is now "
                             f"{form.cleaned_data['role']}.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("dashboard:members", store_slug=request.store.slug)


@require_POST
@store_view(Perm.MEMBERS_MANAGE)
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = get_for_store(Membership, request.store, pk=member_id)
    try:
        services.member_remove(store=request.store, actor=Actor.for_user(request.user),
                               membership=membership)
        messages.success(request, f"Removed {membership.user.email}.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    if membership.user_id == request.user.id and not Membership.objects.filter(
            pk=membership.pk).exists():
        return redirect("dashboard:home")
    return redirect("dashboard:members", store_slug=request.store.slug)


@store_view(Perm.TOKENS_MANAGE)
def tokens(request: HttpRequest) -> HttpResponse:
    store = request.store
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.token_create(store=store, actor=Actor.for_user(request.user),
                                               **form.cleaned_data)
        except ServiceError as exc:
            form_error(form, exc)
        else:
            # Post/redirect/get, so a reload cannot mint a second token. The key rides in the
            # session for exactly one page view and is popped before rendering.
            request.session[_NEW_TOKEN_KEY] = {"id": token.pk, "raw": raw}
            return redirect("dashboard:tokens", store_slug=store.slug)
    created = None
    fresh = request.session.pop(_NEW_TOKEN_KEY, None)
    if fresh:
        token = selectors.store_tokens(store=store).filter(pk=fresh["id"]).first()
        created = {"token": token, "raw": fresh["raw"]} if token else None
    context = {"form": form, "created": created, "tokens": selectors.store_tokens(store=store),
               "tab": "tokens"}
    return render(request, "dashboard/tokens.html", context)


@require_POST
@store_view(Perm.TOKENS_MANAGE)
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_for_store(ApiToken, request.store, pk=token_id)
    services.token_revoke(store=request.store, actor=Actor.for_user(request.user), token=token)
    messages.success(request, f"Revoked {token.name}.")
    return redirect("dashboard:tokens", store_slug=request.store.slug)


@store_view(Perm.AUDIT_VIEW)
def audit(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.store_audit_log(store=request.store), 50).get_page(
        request.GET.get("page"))
    return render(request, "dashboard/audit.html", {"page": page, "tab": "audit"})
