"""parse_amount, minor units and the payload form of money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopkeep.core.money import (
    CURRENCIES,
    MAX_AMOUNT,
    InvalidAmount,
    from_minor,
    minor_units,
    money_str,
    parse_amount,
    to_minor,
)


@pytest.mark.parametrize(("raw", "currency", "expected"), [
    ("29.99", "USD", Decimal("29.99")),
    ("  5 ", "USD", Decimal("5.00")),
    ("5", "EUR", Decimal("5.00")),
    ("0.5", "GBP", Decimal("0.50")),
    (Decimal("14.99"), "USD", Decimal("14.99")),
    (7, "USD", Decimal("7.00")),
    ("1500", "JPY", Decimal("1500")),
    ("999999.99", "USD", MAX_AMOUNT),
    ("0", "USD", Decimal("0.00")),
])
def test_parse_amount_accepts_plain_amounts_and_quantises_them(raw, currency, expected):
    amount = parse_amount(raw, currency)
    assert amount == expected
    assert amount.as_tuple().exponent == -minor_units(currency)


@pytest.mark.parametrize("raw", [
    "", "  ", "abc", "12abc", "1,99", "0x10", "NaN", "Infinity", "-Infinity", "sNaN", None,
    "1_000",  # Decimal() reads underscores
    "\u0661\u0662",  # Arabic-Indic "12": Decimal() reads other scripts' digits
    "\uff11\uff12",  # full-width "12"
    "1 000",
])
def test_parse_amount_rejects_junk(raw):
    with pytest.raises(InvalidAmount):
        parse_amount(raw, "USD")


@pytest.mark.parametrize("raw", ["-0.01", "-1", "-999999"])
def test_parse_amount_rejects_negative_amounts(raw):
    with pytest.raises(InvalidAmount):
        parse_amount(raw, "USD")


@pytest.mark.parametrize("raw", ["-0", "-0.00", "-0e5"])
def test_negative_zero_becomes_plain_zero(raw):
    amount = parse_amount(raw, "USD")
    assert money_str(amount, "USD") == "0.00"


def test_zero_can_be_refused():
    with pytest.raises(InvalidAmount):
        parse_amount("0.00", "USD", allow_zero=False)


@pytest.mark.parametrize(("raw", "currency"), [
    ("1.999", "USD"), ("0.001", "EUR"), ("1e-3", "USD"), ("1e-999999999", "USD"),
    ("1.5", "JPY"), ("1500.01", "JPY"), ("100.5", "KRW"),
])
def test_parse_amount_rejects_more_decimals_than_the_currency_has(raw, currency):
    with pytest.raises(InvalidAmount, match="decimal places"):
        parse_amount(raw, currency)


def test_trailing_zero_decimals_are_not_extra_decimals():
    assert parse_amount("1500.00", "JPY") == Decimal("1500")
    assert parse_amount("1.990", "USD") == Decimal("1.99")


@pytest.mark.parametrize("raw", ["1000000", "999999.991e0", "1e7"])
def test_parse_amount_rejects_amounts_above_the_maximum(raw):
    with pytest.raises(InvalidAmount):
        parse_amount(raw, "USD")


def test_an_unsupported_currency_is_refused():
    with pytest.raises(InvalidAmount, match="unsupported currency"):
        parse_amount("1.00", "XXX")


def test_yen_and_won_have_no_minor_unit():
    assert (minor_units("JPY"), minor_units("krw"), minor_units("USD")) == (0, 0, 2)
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert from_minor(1500, "JPY") == Decimal("1500")
    assert money_str(Decimal("1500"), "JPY") == "1500"


def test_usd_minor_units_are_cents():
    assert to_minor(Decimal("29.99"), "USD") == 2999
    assert from_minor(2999, "USD") == Decimal("29.99")


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (Decimal("29.99"), "USD", "29.99"),
    (Decimal("5"), "USD", "5.00"),
    (Decimal("0"), "EUR", "0.00"),
    (Decimal("1E+3"), "USD", "1000.00"),
    (Decimal("1500"), "JPY", "1500"),
    (Decimal("1E+3"), "JPY", "1000"),
    (Decimal("0.005"), "USD", "0.01"),  # half up
])
def test_money_str_is_a_plain_decimal_string_with_the_currencys_places(amount, currency,
                                                                      expected):
    assert money_str(amount, currency) == expected


@given(minor=st.integers(min_value=0, max_value=99_999_999),
       currency=st.sampled_from(sorted(CURRENCIES)))
def test_minor_units_round_trip(minor, currency):
    amount = from_minor(minor, currency)
    assert to_minor(amount, currency) == minor
    if amount <= MAX_AMOUNT:
        assert parse_amount(money_str(amount, currency), currency) == amount


@given(amount=st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2))
def test_every_two_decimal_amount_parses_back_from_its_payload_form(amount):
    text = money_str(amount, "USD")
    assert parse_amount(text, "USD") == amount
    assert to_minor(parse_amount(text, "USD"), "USD") == int(amount * 100)


@given(text=st.text(max_size=20))
def test_parse_amount_only_ever_returns_a_valid_amount_or_raises(text):
    try:
        amount = parse_amount(text, "USD")
    except InvalidAmount:
        return
    assert Decimal(0) <= amount <= MAX_AMOUNT
    assert amount.as_tuple().exponent == -2
    assert not money_str(amount, "USD").startswith("-")
