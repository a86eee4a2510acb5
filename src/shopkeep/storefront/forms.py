from __future__ import annotations

from django import forms

from shopkeep.orders.services import MAX_QUANTITY


class QuantityForm(forms.Form):
    """A basket line's new quantity; 0 removes it."""

    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY, initial=1)


class AddToBasketForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


class CheckoutForm(forms.Form):
    email = forms.EmailField(max_length=254)
    player_name = forms.CharField(max_length=32)
    name = forms.CharField(max_length=150, required=False, label="Your name")
    line1 = forms.CharField(max_length=200, required=False, label="Address")
    line2 = forms.CharField(max_length=200, required=False, label="Address (line 2)")
    city = forms.CharField(max_length=200, required=False)
    state = forms.CharField(max_length=200, required=False, label="State or region")
    postal_code = forms.CharField(max_length=200, required=False)
    country = forms.CharField(max_length=2, required=False, help_text="Two letters, like US.")
    vat_number = forms.CharField(max_length=40, required=False, label="EU VAT number",
                                 help_text="Optional, for businesses: with a valid number "
                                 "from another EU country no VAT is charged.")
    creator_code = forms.CharField(max_length=40, required=False, label="Creator code",
                                   help_text="Optional: support a creator who sent you here.")
    gift_card_code = forms.CharField(max_length=40, required=False, label="Gift card code",
                                     help_text="Optional: the card pays what it holds; a "
                                     "card payment covers the rest.")
    show_in_widgets = forms.BooleanField(
        required=False, label="Show my player name and what I bought on this store's "
        "recent purchases and top supporter lists",
        help_text="Optional. Never your e-mail or what you paid; untick it on a later order "
        "to disappear from them.")
    basket_reminder = forms.BooleanField(
        required=False, label="E-mail me one reminder if I do not finish this order",
        help_text="Optional. One e-mail at most, with a link to stop them.")
    accept_terms = forms.BooleanField(label="I accept the store's terms; purchases are "
                                      "delivered in game to the player above.")

    def __init__(self, *args, player_label: str, steam_id: str = "",
                 gateways: list[tuple[str, str]] | None = None,
                 basket_reminders: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not basket_reminders:
            del self.fields["basket_reminder"]  # the store sends none: nothing to consent to
        self.fields["player_name"].label = player_label
        self.steam_id = steam_id
        if steam_id:
            # A Steam game after Steam sign-in: the player is the account Steam vouched for.
            self.fields["player_name"].required = False
            self.fields["player_name"].disabled = True
            self.fields["player_name"].initial = steam_id
            self.fields["player_name"].help_text = "From your Steam sign-in."
        if gateways and len(gateways) > 1:
            # The buyer chooses only when the store offers more than one way to pay.
            fields = dict(self.fields)
            terms = fields.pop("accept_terms")
            fields["gateway"] = forms.ChoiceField(label="Pay with", choices=gateways,
                                                  initial=gateways[0][0],
                                                  widget=forms.RadioSelect)
            fields["accept_terms"] = terms
            self.fields = fields

    def clean_player_name(self) -> str:
        return self.steam_id or self.cleaned_data.get("player_name", "")

    def address(self) -> dict:
        return {k: self.cleaned_data.get(k, "") for k in
                ("line1", "line2", "city", "state", "postal_code", "country")}


class CouponForm(forms.Form):
    coupon_code = forms.CharField(max_length=40, required=False, label="Coupon code")


class GiftCardBalanceForm(forms.Form):
    code = forms.CharField(max_length=40, label="Gift card code")


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254)


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254)
    player_name = forms.CharField(max_length=32)
    name = forms.CharField(max_length=150, required=False, label="Your name")

    def __init__(self, *args, player_label: str, gateways: list[tuple[str, str]] | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["player_name"].label = player_label
        if gateways and len(gateways) > 1:
            # The buyer chooses only when the store offers more than one way to pay.
            fields = dict(self.fields)
            terms = fields.pop("accept_terms")
            fields["gateway"] = forms.ChoiceField(label="Pay with", choices=gateways,
                                                  initial=gateways[0][0],
                                                  widget=forms.RadioSelect)
            fields["accept_terms"] = terms
            self.fields = fields
