from __future__ import annotations

from django import forms

from shopkeep.catalog.models import Category, Product
from shopkeep.catalog.placeholders import MAX_COMMANDS, command_warnings
from shopkeep.catalog.safe_repeat import looks_safe_to_repeat
from shopkeep.customers.identity import identity_label


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=100, required=False,
                           help_text="Left empty, it is made from the name.")
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(
        attrs={"rows": 3}))
    sort_order = forms.IntegerField(initial=0, min_value=-10_000, max_value=10_000)


class ProductForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.CharField(max_length=120, required=False,
                           help_text="Left empty, it is made from the name.")
    price = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    type = forms.ChoiceField(choices=Product.Type.choices)
    billing_interval = forms.ChoiceField(choices=[("", "-"), *Product.Interval.choices],
                                         required=False, help_text="Subscriptions only.")
    trial_days = forms.IntegerField(min_value=0, max_value=365, initial=0,
                                    help_text="Subscriptions only.")
    category_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                         label="Category")
    description = forms.CharField(required=False, max_length=20_000, help_text="Markdown.",
                                  widget=forms.Textarea(attrs={"rows": 6}))
    image = forms.FileField(required=False, help_text="PNG, JPEG, GIF or WebP, up to 2 MB.")
    download = forms.FileField(required=False, help_text="Digital downloads only: the file "
                               "buyers get from their order page once paid, up to 50 MB.")
    is_active = forms.BooleanField(
        required=False, initial=True, label="Listed in the store",
        help_text="Unlisted products are hidden from the storefront and cannot be bought.")
    is_featured = forms.BooleanField(required=False, label="Featured on the store home")
    stock_enabled = forms.BooleanField(required=False, label="Track stock")
    stock_quantity = forms.IntegerField(required=False, min_value=0, max_value=10_000_000)
    sort_order = forms.IntegerField(initial=0, min_value=-10_000, max_value=10_000)
    requires_discord_signin = forms.BooleanField(
        required=False, label="Buyers must sign in with Discord",
        help_text="Checkout asks for Discord sign-in, so the Discord id comes from Discord.")
    requires_steam_signin = forms.BooleanField(
        required=False, label="Buyers must sign in with Steam",
        help_text="Checkout asks for Steam sign-in instead of a typed Steam64 id.")

    def __init__(self, *args, categories: list[Category], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_id"].choices = [("", "None")] + [(c.pk, c.name) for c in categories]


class ActionForm(forms.Form):
    commands = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=f"One command per line, at most {MAX_COMMANDS}, "
                               "without the leading slash.")
    require_online = forms.BooleanField(required=False, label="Wait until the player is online")
    repeat_per_quantity = forms.BooleanField(required=False, label="Run once per quantity bought")
    safe_to_repeat = forms.BooleanField(
        required=False, label="Safe to run again",
        help_text="Running these commands twice has the effect of running them once (setting a "
        "rank or a permission). If the agent crashes while running them, they run again; "
        "otherwise they wait for you to review.")
    delay_after_join = forms.IntegerField(
        required=False, min_value=0, max_value=600, initial=0,
        label="Seconds to wait after the player joins")
    servers = forms.TypedMultipleChoiceField(
        required=False, coerce=int, widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to run on every server of the store.")

    def __init__(self, *args, server_choices: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["servers"].choices = list(server_choices)

    def command_warnings(self) -> list[str]:
        raw = (self.data.get(self.add_prefix("commands"), "") if self.is_bound
               else self.initial.get("commands", ""))
        return command_warnings(str(raw).splitlines())

    def suggest_safe_to_repeat(self) -> bool:
        """The commands are known idempotent forms but the box is not ticked."""
        if self.is_bound:
            commands = self.data.get(self.add_prefix("commands"), "")
            ticked = bool(self.data.get(self.add_prefix("safe_to_repeat")))
        else:
            commands = self.initial.get("commands", "")
            ticked = bool(self.initial.get("safe_to_repeat"))
        return not ticked and looks_safe_to_repeat(str(commands).splitlines())


ActionFormSet = forms.formset_factory(ActionForm, extra=1, max_num=10, absolute_max=10)


def player_label(game: str) -> str:
    return identity_label(game)
