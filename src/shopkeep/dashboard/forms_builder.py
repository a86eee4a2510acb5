"""Store Builder forms: the settings document as fields, the theme's options built from its
manifest, Markdown pages, domains, maintenance."""

from __future__ import annotations

from django import forms

from shopkeep.themes.look import SOCIAL_KEYS, SOCIAL_LABELS, TEXT_KEYS, WIDGETS, Look
from shopkeep.themes.registry import Theme, installed_themes


class BuilderForm(forms.Form):
    theme = forms.ChoiceField(label="Theme")
    tagline = forms.CharField(required=False, max_length=TEXT_KEYS["tagline"][0])
    meta_description = forms.CharField(required=False, label="Search description",
                                       max_length=TEXT_KEYS["meta_description"][0],
                                       widget=forms.Textarea(attrs={"rows": 2}))
    server_address = forms.CharField(required=False, label="Server address",
                                     help_text="Shown with a copy button, e.g. "
                                     "play.example.com:25565.")
    max_players = forms.IntegerField(required=False, min_value=1, max_value=100_000,
                                     label="Player slots", help_text="Shown as players X/Y.")
    announcement = forms.CharField(required=False, max_length=200)
    goal_title = forms.CharField(required=False, label="Community goal title", max_length=80)
    goal_amount = forms.DecimalField(required=False, min_value=0, max_digits=12,
                                     decimal_places=2, label="Monthly goal amount")
    custom_css = forms.CharField(required=False, label="Custom CSS",
                                 widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
                                 help_text="Served as a file under your store's address; up "
                                 "to 20 KB. It cannot load anything from other sites.")
    logo = forms.FileField(required=False, help_text="PNG, JPEG, GIF or WebP; square, 512 KB.")
    banner = forms.FileField(required=False, help_text="Wide, about 1200 by 360 pixels; 2 MB.")
    favicon = forms.FileField(required=False, help_text="Square, 128 KB.")

    def __init__(self, *args, look: Look, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [(t.name, t.label) for t in installed_themes().values()]
        for key in SOCIAL_KEYS:
            self.fields[key] = forms.CharField(required=False, label=SOCIAL_LABELS[key],
                                               help_text="https:// address")
        for key, label in WIDGETS.items():
            self.fields[f"widget_{key}"] = forms.BooleanField(required=False, label=label)
        self.theme = look.theme
        for option in look.theme.options:
            self.fields[f"option_{option.key}"] = _option_field(option)
        self.initial.update(_initial(look))

    def option_fields(self):
        return [self[f"option_{o.key}"] for o in self.theme.options]

    def changes(self) -> dict:
        data = self.cleaned_data
        changes = {key: data.get(key) or "" for key in TEXT_KEYS}
        changes.update({key: data.get(key) or "" for key in SOCIAL_KEYS})
        changes["theme"] = data["theme"]
        changes["custom_css"] = data.get("custom_css") or ""
        changes["max_players"] = data.get("max_players")
        changes["goal_amount"] = str(data["goal_amount"]) if data.get("goal_amount") else ""
        changes["widgets"] = {key: bool(data.get(f"widget_{key}")) for key in WIDGETS}
        if data["theme"] == self.theme.name:
            changes["options"] = {o.key: _option_value(o, data.get(f"option_{o.key}"))
                                  for o in self.theme.options}
        return changes

    def images(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("logo", "banner", "favicon")
                if self.cleaned_data.get(key)}


def _option_field(option) -> forms.Field:
    if option.type == "bool":
        return forms.BooleanField(required=False, label=option.label, help_text=option.help)
    if option.type == "color":
        return forms.CharField(label=option.label, help_text=option.help, max_length=7,
                               widget=forms.TextInput(attrs={"type": "color"}))
    return forms.ChoiceField(label=option.label, help_text=option.help,
                             choices=list(option.choices))


def _option_value(option, value):
    return bool(value) if option.type == "bool" else value


def _initial(look: Look) -> dict:
    initial = {"theme": look.theme.name, "custom_css": look.custom_css,
               "max_players": look.max_players, "goal_amount": look.goal_amount,
               **look.texts, **{k: look.social.get(k, "") for k in SOCIAL_KEYS}}
    initial.update({f"widget_{k}": v for k, v in look.widgets.items()})
    initial.update({f"option_{k}": v for k, v in look.options.items()})
    return initial


def theme_summaries() -> list[Theme]:
    return list(installed_themes().values())


class PageForm(forms.Form):
    title = forms.CharField(max_length=80)
    slug = forms.SlugField(max_length=80, required=False, label="Address",
                           help_text="Letters, digits and dashes; made from the title if empty.")
    body = forms.CharField(required=False, label="Text (Markdown)",
                           widget=forms.Textarea(attrs={"rows": 14}))
    is_published = forms.BooleanField(required=False, label="Published (buyers see it)")
    show_in_nav = forms.BooleanField(required=False, initial=True,
                                     label="Show in the navigation")
    sort_order = forms.IntegerField(required=False, initial=0, min_value=-1000,
                                    max_value=1000, label="Order")


class DomainForm(forms.Form):
    hostname = forms.CharField(max_length=260, label="Domain",
                               help_text="For example shop.example.com")


class MaintenanceForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Maintenance mode on")
    message = forms.CharField(required=False, max_length=500, label="Message to buyers")
    retry_minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, initial=30,
                                       label="Expected back in (minutes)")
