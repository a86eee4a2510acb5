"""Platform staff console: store oversight (plan and status)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from shopkeep.core.errors import ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from shopkeep.stores.services import store_set_plan_and_status


def staff_required(view: Callable) -> Callable:
    """Non-staff get a 404: the console's existence is not advertised."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


class StorePlanForm(forms.Form):
    plan = forms.ChoiceField(choices=Store.Plan.choices)
    status = forms.ChoiceField(choices=Store.Status.choices)


@staff_required
def store_list(request: HttpRequest) -> HttpResponse:
    stores = Store.objects.annotate(member_count=Count("memberships")).order_by("-created_at")
    query = request.GET.get("q", "").strip()
    if query:
        stores = stores.filter(name__icontains=query) | stores.filter(slug__icontains=query)
    page = Paginator(stores, 50).get_page(request.GET.get("page"))
    return render(request, "staff/store_list.html", {"page": page, "q": query,
                                                     "plan_form": StorePlanForm()})


# staff_required first: a non-staff GET must be the same 404, not a 405 that advertises the route.
@staff_required
@require_POST
def store_plan(request: HttpRequest, store_id: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    form = StorePlanForm(request.POST)
    if form.is_valid():
        try:
            store_set_plan_and_status(store=store, actor=Actor.for_user(request.user),
                                      **form.cleaned_data)
            messages.success(request, f"{store.name}: plan and status saved.")
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Choose a valid plan and status.")
    return redirect("staff:store_list")
