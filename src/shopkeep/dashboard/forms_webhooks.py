from __future__ import annotations

from django import forms

from shopkeep.events.catalogue import EVENT_TYPES, LEGACY_ALIASES
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint

EVENT_CHOICES = ([(name, name) for name in EVENT_TYPES]
                 + [(name, f"{name} (legacy, use {new})") for name, new in LEGACY_ALIASES.items()])


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=2000, label="URL",
                          help_text="https:// address that receives a POST for each event.")
    description = forms.CharField(max_length=200, required=False)
    format = forms.ChoiceField(choices=WebhookEndpoint.Format.choices,
                               initial=WebhookEndpoint.Format.JSON)
    all_events = forms.BooleanField(required=False, label="All events",
                                    help_text="Every current event type (legacy names only "
                                    "when ticked below).")
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, required=False,
                                       widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class TestSendForm(forms.Form):
    event_type = forms.ChoiceField(choices=EVENT_CHOICES, initial="order.received")


class RedeliverFailedForm(forms.Form):
    since = forms.DateTimeField(label="Failed since (store time zone)",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *WebhookDelivery.Status.choices],
                               required=False)
    event_type = forms.ChoiceField(choices=[("", "Any event"), *EVENT_CHOICES], required=False)
    since = forms.DateTimeField(required=False, label="From (store time zone)",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, label="To (store time zone)",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
