"""Money is ``Decimal`` in the currency's major unit, quantised to its minor units.

JPY and KRW have no minor unit, so ``1500`` yen is ``Decimal("1500")`` and ``1500`` in
"cents" too; every other supported currency has two decimals. Webhook payloads carry money as
decimal strings (``"29.99"``) except dispute amounts, which are integers in minor units.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 currencies a store may sell in, with their minor units (JPY and KRW have none).
CURRENCIES: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CHF": 2, "SEK": 2, "NOK": 2,
    "DKK": 2, "PLN": 2, "CZK": 2, "BRL": 2, "MXN": 2, "SGD": 2, "HKD": 2, "INR": 2, "ZAR": 2,
    "TRY": 2, "JPY": 0, "KRW": 0,
}
MAX_AMOUNT = Decimal("999999.99")


class InvalidAmount(ValueError):
    pass


def minor_units(currency: str) -> int:
    try:
        return CURRENCIES[currency.upper()]
    except KeyError:
        raise InvalidAmount(f"unsupported currency {currency!r}") from None


def parse_amount(value: object, currency: str, *, allow_zero: bool = True) -> Decimal:
    """A user-supplied amount, refused if it has more decimals than the currency allows."""
    text = str(value).strip()
    # Decimal() also reads "1_000" and digits of other scripts ("١٢"); a price is plain ASCII.
    if not text.isascii() or "_" in text:
        raise InvalidAmount(f"{value!r} is not an amount")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidAmount(f"{value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidAmount("the amount must be a positive number")
    amount = amount.copy_abs()  # "-0" passes the sign check but would print as "-0.00"
    if amount > MAX_AMOUNT:
        raise InvalidAmount(f"the amount must be at most {MAX_AMOUNT}")
    places = minor_units(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise InvalidAmount(f"{currency} amounts have {places} decimal places at most")
    return quantize(amount, currency)


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("29.99")`` USD -> ``2999``; ``Decimal("1500")`` JPY -> ``1500``."""
    return int(quantize(amount, currency).scaleb(minor_units(currency)))


def from_minor(value: int, currency: str) -> Decimal:
    return quantize(Decimal(value).scaleb(-minor_units(currency)), currency)


def money_str(amount: Decimal, currency: str) -> str:
    """The payload form: ``"29.99"``, ``"1500"`` for JPY."""
    return format(quantize(amount, currency), "f")
