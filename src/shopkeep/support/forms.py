"""Forms shared by the three places tickets are written: the dashboard, the staff console
and the storefront. They only shape input; the services decide."""

from __future__ import annotations

import re

from django import forms
from django.http import HttpRequest

from shopkeep.support.attachments import MAX_ATTACHMENTS, MAX_REQUEST_BYTES
from shopkeep.support.models import (
    CUSTOMER_CATEGORIES,
    PLATFORM_CATEGORIES,
    PRIORITY_HELP,
    Priority,
)


def too_large(request: HttpRequest) -> bool:
    """Checked before the body is parsed, so an oversized upload is refused unread."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REQUEST_BYTES
    except ValueError:
        return True


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to five files; their type and size are checked by the service, from the bytes."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,"
                      ".log,.txt"}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", f"Up to {MAX_ATTACHMENTS} files of at most 10 MB each: "
                          "screenshots, PDF, text or log files.")
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {MAX_ATTACHMENTS} files.")
        return files


PRIORITY_CHOICES = [(value, f"{label}: {PRIORITY_HELP[value]}")
                    for value, label in Priority.choices]

# Seed 000's "What Information to Include", per category.
GUIDED_PROMPTS = {
    "technical": ["What you were trying to do", "What actually happened",
                  "Steps to reproduce (numbered)", "The exact error text and codes",
                  "Environment: browser and version, operating system, when it started",
                  "What you've already tried"],
    "billing": ["Account: store name and billing e-mail address",
                "Invoice number or charge date", "Expected vs. actual charges, and the plan "
                "you're on or want", "Desired outcome: what you'd like us to do"],
    "feature": ["Feature description: what you'd like to be able to do",
                "Use case: why it would be valuable and how you'd use it",
                "Current workaround (if any)", "How important it is for your business"],
}


class PlatformTicketForm(forms.Form):
    subject = forms.CharField(max_length=200, help_text='For example: "Stripe webhook not '
                              'receiving events"')
    category = forms.ChoiceField(choices=list(PLATFORM_CATEGORIES.items()))
    priority = forms.ChoiceField(choices=PRIORITY_CHOICES, initial=Priority.NORMAL,
                                 help_text="Marking everything Urgent delays real emergencies.")
    urgent_confirmed = forms.BooleanField(
        required=False, label="Yes: my store is down or completely unable to process payments.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), max_length=20_000)
    attachments = AttachmentsField()


class CustomerTicketForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Your e-mail address")
    name = forms.CharField(max_length=150, required=False, label="Your name")
    subject = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=list(CUSTOMER_CATEGORIES.items()))
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    order_number = forms.CharField(max_length=20, required=False,
                                   label="Order number (optional)",
                                   help_text="Like ORD-A1B2C3D4E5, from your receipt.")
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000)
    attachments = AttachmentsField()

    def __init__(self, *args, signed_in: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if signed_in:
            del self.fields["email"]
            del self.fields["name"]


class ReplyForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=20_000,
                              required=False)
    attachments = AttachmentsField()


class StaffReplyForm(ReplyForm):
    internal = forms.BooleanField(required=False,
                                  label="Internal note (never shown to the requester)")


class CloseForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000,
                              required=False, label="Final message (optional)")


class ReopenForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000,
                              label="What do you need?")
    attachments = AttachmentsField()


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[])

    def __init__(self, *args, statuses: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = statuses


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Version/", "Safari"))
_SYSTEMS = (("Windows NT 10", "Windows 10/11"), ("Windows", "Windows"), ("iPhone", "iOS"),
            ("iPad", "iPadOS"), ("Android", "Android"), ("Mac OS X", "macOS"),
            ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_client(user_agent: str) -> dict[str, str]:
    """Browser and operating system for a platform ticket (seed 000 asks for both)."""
    browser = system = "unknown"
    for marker, name in _BROWSERS:
        match = re.search(re.escape(marker) + r"(\d+)", user_agent)
        if match:
            browser = f"{name} {match.group(1)}"
            break
    for marker, name in _SYSTEMS:
        if marker in user_agent:
            system = name
            break
    return {"browser": browser, "os": system, "user_agent": user_agent[:200]}
