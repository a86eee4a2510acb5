"""Tax: the store's rules, its rates per country and region, and the tax on one basket.

The rate is chosen from the buyer's billing country (and region, when the store has a rate
for it). Prices either include tax (the tax is the part of the price that is tax) or exclude
it (the tax is added). A business buyer in another EU country with a VAT number whose format
and check digits are valid (python-stdnum; no VIES lookup) pays no VAT: reverse charge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from stdnum.eu import vat as eu_vat

from shopkeep.core.errors import ServiceError
from shopkeep.core.money import quantize
from shopkeep.core.text import clean_line
from shopkeep.orders.models import TaxRate, TaxSettings
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

ZERO = Decimal("0")
HUNDRED = Decimal("100")


@cache
def eu_standard_rates() -> dict[str, Decimal]:
    data = json.loads((Path(__file__).parent / "data" / "eu_vat_standard_rates.json")
                      .read_text())
    return {country: Decimal(rate) for country, rate in data["rates"].items()}


@dataclass
class TaxResult:
    tax: Decimal = ZERO
    total: Decimal = ZERO
    rate: Decimal = ZERO
    inclusive: bool = False
    country: str = ""
    region: str = ""
    label: str = ""
    reverse_charge: bool = False
    vat_number: str = ""


def tax_settings(store: Store) -> TaxSettings:
    return TaxSettings.objects.filter(store=store).first() or TaxSettings(store=store)


def clean_vat_number(raw: str) -> tuple[str, str]:
    """``(compact number, its EU country)``, or ``ServiceError`` for a malformed number."""
    if not raw or not raw.strip():
        return "", ""
    if len(raw) > 40:
        raise ServiceError("invalid_vat_number", "That VAT number is not valid.",
                           field="vat_number")
    number = eu_vat.compact(raw)
    if not eu_vat.is_valid(number):
        raise ServiceError("invalid_vat_number", "That VAT number is not valid: check the "
                           "country prefix and the digits.", field="vat_number")
    prefix = number[:2].upper()
    return number, "GR" if prefix == "EL" else prefix


def tax_compute(*, store: Store, amount: Decimal, country: str = "", region: str = "",
                vat_number: str = "") -> TaxResult:
    """The tax on ``amount`` (the basket after discounts) for a buyer billed in ``country``."""
    settings = tax_settings(store)
    country = (country or "").strip().upper()[:2]
    region = (region or "").strip().upper()[:64]
    number, vat_country = clean_vat_number(vat_number)
    result = TaxResult(total=amount, inclusive=settings.prices_include_tax, country=country,
                       region=region, vat_number=number)
    if not settings.enabled or not country:
        return result
    rates = {(r.region.upper()): r for r in TaxRate.objects.filter(store=store,
                                                                   country=country)}
    rate = rates.get(region) or rates.get("")
    if rate is None:
        return result
    result.rate, result.label = rate.rate, rate.label
    if settings.prices_include_tax:
        net = quantize(amount * HUNDRED / (HUNDRED + rate.rate), store.currency)
        included = amount - net
    else:
        net, included = amount, quantize(amount * rate.rate / HUNDRED, store.currency)
    if (number and settings.reverse_charge and vat_country in eu_standard_rates()
            and vat_country != (settings.home_country or "").upper()):
        result.reverse_charge = True
        result.total = net  # no VAT: the buyer accounts for it in their own country
        return result
    result.tax = included
    result.total = amount if settings.prices_include_tax else amount + included
    return result


@transaction.atomic
def tax_settings_set(*, store: Store, actor: Actor, enabled: bool, prices_include_tax: bool,
                     home_country: str = "", reverse_charge: bool = True) -> TaxSettings:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    home = (home_country or "").strip().upper()
    if home and (len(home) != 2 or not home.isalpha() or not home.isascii()):
        raise ServiceError("invalid_country", "A country is two letters, like DE.",
                           field="home_country")
    row, _ = TaxSettings.objects.update_or_create(store=store, defaults={
        "enabled": bool(enabled), "prices_include_tax": bool(prices_include_tax),
        "home_country": home, "reverse_charge": bool(reverse_charge),
        "updated_at": timezone.now()})
    audit_record(store=store, actor=actor, action="tax.settings_changed", obj=row, details={
        "enabled": row.enabled, "prices_include_tax": row.prices_include_tax,
        "home_country": row.home_country, "reverse_charge": row.reverse_charge})
    return row


def _place(country: str, region: str) -> tuple[str, str]:
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        raise ServiceError("invalid_country", "A country is two letters, like DE.",
                           field="country")
    region = clean_line(region or "", max_length=64).upper()
    if region and not all(ch.isalnum() or ch in "-_ " for ch in region):
        raise ServiceError("invalid_region", "A region is letters and digits, like CA or "
                           "US-CA.", field="region")
    return country, region


@transaction.atomic
def tax_rate_set(*, store: Store, actor: Actor, country: str, region: str = "",
                 rate: object, label: str = "VAT") -> TaxRate:
    """Create or change the rate for one country (or one region of it)."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    country, region = _place(country, region)
    try:
        value = Decimal(str(rate).strip())
    except ArithmeticError:
        value = Decimal("-1")
    if not value.is_finite() or not ZERO <= value <= HUNDRED or value != value.quantize(
            Decimal("0.001")):
        raise ServiceError("invalid_rate", "A rate is a percentage from 0 to 100, at most "
                           "three decimals.", field="rate")
    label = clean_line(label or "VAT", max_length=40) or "VAT"
    row, _ = TaxRate.objects.update_or_create(store=store, country=country, region=region,
                                              defaults={"rate": value, "label": label})
    audit_record(store=store, actor=actor, action="tax.rate_set", obj=row,
                 details={"country": country, "region": region, "rate": str(value)})
    return row


@transaction.atomic
def tax_rate_delete(*, store: Store, actor: Actor, rate: TaxRate) -> None:
    require_permission(store, actor, Perm.STORE_SETTINGS)
    audit_record(store=store, actor=actor, action="tax.rate_deleted", obj=rate,
                 details={"country": rate.country, "region": rate.region})
    TaxRate.objects.filter(pk=rate.pk, store=store).delete()


@transaction.atomic
def tax_rates_load_eu(*, store: Store, actor: Actor, overwrite: bool = False) -> int:
    """Add the shipped EU standard VAT rates; existing rows are kept unless ``overwrite``."""
    require_permission(store, actor, Perm.STORE_SETTINGS)
    count = 0
    for country, rate in eu_standard_rates().items():
        exists = TaxRate.objects.filter(store=store, country=country, region="").exists()
        if exists and not overwrite:
            continue
        TaxRate.objects.update_or_create(store=store, country=country, region="",
                                         defaults={"rate": rate, "label": "VAT"})
        count += 1
    audit_record(store=store, actor=actor, action="tax.eu_rates_loaded", details={
        "rates": count, "overwrite": overwrite})
    return count
