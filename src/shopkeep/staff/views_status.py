"""Staff console: incidents and maintenance windows on the status page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from shopkeep.core.errors import ServiceError
from shopkeep.platform import status
from shopkeep.platform.models import COMPONENTS, Incident
from shopkeep.platform.status_services import incident_create, incident_post_update
from shopkeep.staff.views import staff_required
from shopkeep.stores.audit import Actor


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(choices=Incident.Kind.choices, initial=Incident.Kind.INCIDENT)
    title = forms.CharField(max_length=200)
    status = forms.ChoiceField(choices=Incident.Status.choices,
                               initial=Incident.Status.INVESTIGATING)
    impact = forms.ChoiceField(choices=Incident.Impact.choices)
    components = forms.MultipleChoiceField(choices=COMPONENTS,
                                           widget=forms.CheckboxSelectMultiple)
    starts_at = forms.DateTimeField(required=False, label="Starts (UTC)",
                                    help_text="Empty: now. YYYY-MM-DD HH:MM")
    ends_at = forms.DateTimeField(required=False, label="Ends (UTC, maintenance)",
                                  help_text="YYYY-MM-DD HH:MM")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000,
                           label="First message")
    notify = forms.BooleanField(required=False, initial=True,
                                label="E-mail confirmed subscribers")


class UpdateForm(forms.Form):
    status = forms.ChoiceField(choices=Incident.Status.choices)
    impact = forms.ChoiceField(choices=Incident.Impact.choices)
    components = forms.MultipleChoiceField(choices=COMPONENTS,
                                           widget=forms.CheckboxSelectMultiple)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000,
                           label="Message")
    notify = forms.BooleanField(required=False, initial=True,
                                label="E-mail confirmed subscribers")


def _apply(form: forms.Form, error: ServiceError) -> None:
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, str(error))


@staff_required
@require_http_methods(["GET", "POST"])
def incident_list(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_create(
                actor=Actor.for_user(request.user), kind=data["kind"], title=data["title"],
                impact=data["impact"], components=data["components"],
                status_value=data["status"], body=data["body"],
                starts_at=data["starts_at"], ends_at=data["ends_at"], notify=data["notify"])
        except ServiceError as error:
            _apply(form, error)
        else:
            messages.success(request, f"Posted “{incident.title}” on the status page"
                             + (" and queued e-mail to subscribers." if data["notify"]
                                else "."))
            return redirect("staff:incident", incident.pk)
    components, _ = status.compute()
    page = Paginator(Incident.objects.all(), 30).get_page(request.GET.get("page"))
    return render(request, "staff/status/list.html", {"form": form, "page": page,
                                                      "components": components})


@staff_required
@require_http_methods(["GET", "POST"])
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = Incident.objects.filter(pk=incident_id).prefetch_related("updates").first()
    if incident is None:
        raise Http404
    form = UpdateForm(request.POST or None, initial={
        "status": incident.status, "impact": incident.impact,
        "components": incident.components})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident_post_update(actor=Actor.for_user(request.user), incident_id=incident.pk,
                                 status_value=data["status"], body=data["body"],
                                 impact=data["impact"], components=data["components"],
                                 notify=data["notify"])
        except ServiceError as error:
            _apply(form, error)
        else:
            messages.success(request, "Update posted on the status page.")
            return redirect("staff:incident", incident.pk)
    return render(request, "staff/status/detail.html", {"incident": incident, "form": form})
