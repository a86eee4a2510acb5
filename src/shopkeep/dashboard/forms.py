from __future__ import annotations

import zoneinfo

from django import forms

from shopkeep.stores.models import CURRENCIES, GAMES, Role
from shopkeep.stores.permissions import SCOPES

_CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]
_TZ_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class StoreCreateForm(forms.Form):
    name = forms.CharField(max_length=100)
    # A CharField: the rule and its message live in stores.services.store_create, whose
    # words match this help text, so the error under the field says the same thing.
    slug = forms.CharField(max_length=50, label="Store address",
                           help_text="3 to 50 lower-case letters, digits or dashes, like "
                           "blocky-realms. Your storefront is at /s/<address>/.",
                           error_messages={"max_length": "The address must be 3 to 50 "
                                           "lower-case letters, digits or dashes."})
    currency = forms.ChoiceField(choices=_CURRENCY_CHOICES, initial="USD")
    time_zone = forms.ChoiceField(choices=_TZ_CHOICES, initial="UTC")


class StoreSettingsForm(forms.Form):
    name = forms.CharField(max_length=100)
    currency = forms.ChoiceField(choices=_CURRENCY_CHOICES)
    time_zone = forms.ChoiceField(choices=_TZ_CHOICES)
    game = forms.ChoiceField(choices=list(GAMES.items()), help_text="Decides how player "
                             "identities are checked at checkout.")
    test_mode = forms.BooleanField(required=False, help_text="Orders are test orders (the sandbox, "
                                   "or Stripe's test mode with a test key); no real money moves.")


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.SUPPORT)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(choices=[(s, f"{s}: {d}") for s, d in SCOPES.items()],
                                       widget=forms.CheckboxSelectMultiple)
    expires_at = forms.DateTimeField(required=False, label="Expires at (optional, store time zone)",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
