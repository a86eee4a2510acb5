"""Forms for coupons, sales and gift cards. Times are typed in the store's time zone."""

from __future__ import annotations

from django import forms

from shopkeep.promotions.models import Coupon, DiscountKind

LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class _Targets(forms.Form):
    def __init__(self, *args, products=(), categories=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_ids"].choices = [(p.pk, p.name) for p in products]
        self.fields["category_ids"].choices = [(c.pk, c.name) for c in categories]


class CouponForm(_Targets):
    code = forms.CharField(max_length=40, help_text="Letters, digits, - and _; buyers may type "
                           "it in any case.")
    description = forms.CharField(max_length=200, required=False)
    kind = forms.ChoiceField(choices=DiscountKind.choices)
    value = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                               help_text="A percentage (1-100) or an amount in the store "
                               "currency.")
    scope = forms.ChoiceField(choices=Coupon.Scope.choices)
    product_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Products",
                                                 widget=forms.CheckboxSelectMultiple)
    category_ids = forms.TypedMultipleChoiceField(coerce=int, required=False,
                                                  label="Categories",
                                                  widget=forms.CheckboxSelectMultiple)
    min_basket = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                    required=False, label="Minimum basket")
    starts_at = forms.DateTimeField(required=False, widget=LOCAL, label="Starts")
    ends_at = forms.DateTimeField(required=False, widget=LOCAL, label="Ends")
    max_uses = forms.IntegerField(min_value=1, max_value=10_000_000, required=False,
                                  label="Total uses", help_text="Empty: unlimited.")
    max_uses_per_customer = forms.IntegerField(min_value=1, max_value=10_000_000,
                                               required=False, label="Uses per customer")
    first_purchase_only = forms.BooleanField(required=False)
    combines_with_sales = forms.BooleanField(required=False, initial=True,
                                             label="Also discounts products on sale")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class SaleForm(_Targets):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=DiscountKind.choices)
    value = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    all_products = forms.BooleanField(required=False, label="Every product in the store")
    product_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Products",
                                                 widget=forms.CheckboxSelectMultiple)
    category_ids = forms.TypedMultipleChoiceField(coerce=int, required=False,
                                                  label="Categories",
                                                  widget=forms.CheckboxSelectMultiple)
    starts_at = forms.DateTimeField(widget=LOCAL, label="Starts")
    ends_at = forms.DateTimeField(widget=LOCAL, label="Ends")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class GiftCardIssueForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    note = forms.CharField(max_length=200, required=False)
    recipient_email = forms.EmailField(required=False, label="Recipient e-mail (optional)")


class GiftCardAdjustForm(forms.Form):
    direction = forms.ChoiceField(choices=[("add", "Add to the balance"),
                                           ("remove", "Take from the balance")])
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    note = forms.CharField(max_length=200, required=False)


class CreatorCodeForm(forms.Form):
    code = forms.CharField(max_length=40)
    name = forms.CharField(max_length=100, label="Creator")
    share_percent = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0,
                                       max_value=100, required=False, initial=0,
                                       label="Share (%)", help_text="Optional; shown in the "
                                       "report, paid out by you.")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class TierGroupForm(forms.Form):
    """A ladder: one product per step, lowest first; empty steps are skipped."""

    STEPS = 6
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, products=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "(none)")] + [(p.pk, f"{p.name} ({p.price} {p.currency}, "
                                             f"{p.get_type_display().lower()})")
                                      for p in products]
        for step in range(1, self.STEPS + 1):
            label = f"Tier {step}" + (" (lowest)" if step == 1 else "")
            self.fields[f"tier_{step}"] = forms.TypedChoiceField(
                choices=choices, coerce=int, empty_value=None, required=step <= 2,
                label=label)

    def product_ids(self) -> list[int]:
        return [pid for step in range(1, self.STEPS + 1)
                if (pid := self.cleaned_data.get(f"tier_{step}")) is not None]
