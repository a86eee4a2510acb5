"""Public support pages that need no sign-in: the satisfaction survey (a one-time link) and
the signed, expiring attachment links carried by webhook events."""

from __future__ import annotations

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from shopkeep.core.errors import ServiceError
from shopkeep.support.attachments import attachment_response, unsign
from shopkeep.support.models import Attachment
from shopkeep.support.surveys import survey_answer, survey_for_token


def attachment_signed(request: HttpRequest, token: str, filename: str) -> FileResponse:
    data = unsign(token)
    if data is None:
        raise Http404("This link is invalid or has expired.")
    attachment = (Attachment.objects.filter(pk=data.get("a"), store_id=data.get("s"),
                                            message__internal=False).first())
    if attachment is None:
        raise Http404("No such attachment")
    return attachment_response(attachment)


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(1, 6)], coerce=int,
                                    widget=forms.RadioSelect, label="How satisfied are you?")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                              max_length=2000, label="Anything to add? (optional)")


def survey(request: HttpRequest, token: str) -> HttpResponse:
    found = survey_for_token(token)
    if found is None:
        raise Http404("This survey link is not valid.")
    context = {"survey": found, "ticket": found.ticket}
    if found.answered_at is not None:
        return render(request, "support/survey_done.html", {**context, "already": True})
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey_answer(token=token, rating=form.cleaned_data["rating"],
                          comment=form.cleaned_data["comment"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return render(request, "support/survey_done.html", context)
    response = render(request, "support/survey.html", {**context, "form": form},
                      status=400 if form.errors else 200)
    response["Referrer-Policy"] = "same-origin"
    return response
