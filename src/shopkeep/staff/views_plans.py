"""Staff console: the plans the platform sells (SHOPKEEP_PLATFORM_BILLING)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from shopkeep.core.errors import ServiceError
from shopkeep.platform.plans import FIELDS, plan_save
from shopkeep.staff.views import staff_required
from shopkeep.stores.audit import Actor
from shopkeep.stores.limits import billing_on
from shopkeep.stores.models import BillingPlan, StoreBilling


class PlanForm(forms.ModelForm):
    class Meta:
        model = BillingPlan
        fields = FIELDS
        help_texts = {"stripe_price_month": "price_... from Stripe (Products > your plan)",
                      "max_servers": "Empty: unlimited", "max_products": "Empty: unlimited",
                      "max_members": "Empty: unlimited",
                      "max_webhook_endpoints": "Empty: unlimited",
                      "is_default": "Stores without a subscription are on this plan"}

    def _get_validation_exclusions(self) -> set[str]:
        # plan_save moves the default flag and reports a taken key itself; the model's
        # constraint checks would refuse a second default before the service can move it.
        return {*super()._get_validation_exclusions(), "is_default", "key"}


@staff_required
@require_http_methods(["GET", "POST"])
def plans(request: HttpRequest, plan_id: int | None = None) -> HttpResponse:
    plan = None
    if plan_id is not None:
        plan = BillingPlan.objects.filter(pk=plan_id).first()
        if plan is None:
            raise Http404
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in FIELDS}
        try:
            saved = plan_save(actor=Actor.for_user(request.user), data=data,
                              plan_id=plan.pk if plan else None)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Plan “{saved.name}” saved; Settings > Plan offers it "
                             "to store owners" + (" (billing is off on this installation)."
                                                  if not billing_on() else "."))
            return redirect("staff:plans")
    rows = [(p, StoreBilling.objects.filter(plan=p).exclude(status="none").count())
            for p in BillingPlan.objects.all()]
    return render(request, "staff/plans.html", {"form": form, "plan": plan, "rows": rows,
                                                "enabled": billing_on()})
