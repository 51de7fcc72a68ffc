"""Prices as written on pages and in spreadsheets, read into an amount and a currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scrapeyard.datasets import prices


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("€1.234,50", "1234.50", "EUR"),
        ("$12.99", "12.99", "USD"),
        ("12,99 EUR", "12.99", "EUR"),
        ("1 234,50 €", "1234.50", "EUR"),
        ("1\u00a0234,50\u00a0€", "1234.50", "EUR"),
        ("CHF 1'234.50", "1234.50", "CHF"),
        ("£5", "5", "GBP"),
        ("US$ 1,299.00", "1299.00", "USD"),
        ("R$ 10,00", "10.00", "BRL"),
        ("1.234.567,89 €", "1234567.89", "EUR"),
        ("1,234,567.89", "1234567.89", None),
        ("Price: 19,-", "19", None),
        ("-3.50 USD", "-3.50", "USD"),
        ("0,500 kg", "0.500", None),
    ],
)
def test_prices_in_every_common_notation(text: str, amount: str, currency: str | None) -> None:
    assert prices.parse(text) == {"amount": amount, "currency": currency}


def test_a_single_separator_before_three_digits_groups_thousands() -> None:
    assert prices.parse("1,234") == {"amount": "1234", "currency": None}
    assert prices.parse("1.234") == {"amount": "1234", "currency": None}
    assert prices.parse("12,34") == {"amount": "12.34", "currency": None}


def test_amounts_are_exact_decimals_never_floats() -> None:
    parsed = prices.parse("0.10 EUR")
    assert parsed is not None
    assert Decimal(parsed["amount"]) * 3 == Decimal("0.30")
    assert prices.parse(0.1, "EUR") == {"amount": "0.1", "currency": "EUR"}


@pytest.mark.parametrize("value", ["free", "", "EUR", None, True, float("nan"), ["12"]])
def test_what_holds_no_amount_is_none(value: object) -> None:
    assert prices.parse(value) is None


def test_a_default_currency_fills_in_only_when_the_text_names_none() -> None:
    assert prices.parse("12.50", "EUR") == {"amount": "12.50", "currency": "EUR"}
    assert prices.parse("$12.50", "EUR") == {"amount": "12.50", "currency": "USD"}
