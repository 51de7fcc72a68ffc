"""Prices as written on pages and in spreadsheets, read into an amount and a currency.

``"€1.234,50"``, ``"1 234,50 €"``, ``"$12.99"``, ``"12,99 EUR"`` and ``"CHF 1'234.50"``
all become ``{"amount": "1234.50", "currency": ...}``: the amount is a decimal string
(never a float, which cannot hold 0.10 exactly), the currency an ISO 4217 code or
``None`` when the text does not say.

Which separator is the decimal one is decided per value: when both ``.`` and ``,``
appear, the last one is; when one of them appears once and is followed by exactly three
digits (``1,234``, ``1.234``), it separates thousands; otherwise it is the decimal
point (``12,99``). Spaces and apostrophes inside the number group digits.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TypedDict


class Price(TypedDict):
    """A normalised price."""

    amount: str
    currency: str | None


# Longest first, so "US$" wins over "$".
_SYMBOLS = sorted(
    {
        "US$": "USD",
        "CA$": "CAD",
        "C$": "CAD",
        "AU$": "AUD",
        "A$": "AUD",
        "NZ$": "NZD",
        "HK$": "HKD",
        "S$": "SGD",
        "R$": "BRL",
        "Mex$": "MXN",
        "$": "USD",
        "€": "EUR",
        "£": "GBP",
        "¥": "JPY",
        "￥": "JPY",
        "₹": "INR",
        "₽": "RUB",
        "₩": "KRW",
        "₺": "TRY",
        "₴": "UAH",
        "₪": "ILS",
        "₫": "VND",
        "฿": "THB",
        "₱": "PHP",
        "₦": "NGN",
        "zł": "PLN",
        "Kč": "CZK",
        "Ft": "HUF",
        "Fr.": "CHF",
        "lei": "RON",
    }.items(),
    key=lambda item: -len(item[0]),
)
# ISO 4217 codes in use (as of 2024).
_CODES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR
    ZMW ZWL""".split()
)
_CODE = re.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
_NUMBER = re.compile(r"[-+−]?\s?\d[\d\s.,'’\u00a0\u202f\u2009]*")
_GROUPING = re.compile(r"[\s'’\u00a0\u202f\u2009]")
_DASH_CENTS = re.compile(r"[.,][-–]{1,2}$")  # "12,-" and "12.--": whole units


def currency_of(text: str) -> str | None:
    """The ISO 4217 code ``text`` names by code or symbol, if any."""
    for match in _CODE.finditer(text):
        if match.group(1) in _CODES:
            return match.group(1)
    for symbol, code in _SYMBOLS:
        if symbol in text:
            return code
    return None


def _amount(number: str) -> Decimal | None:
    number = _DASH_CENTS.sub("", number.strip().replace("−", "-"))
    number = _GROUPING.sub("", number).rstrip(".,")
    sign = ""
    if number[:1] in "+-":
        sign, number = ("-" if number[0] == "-" else ""), number[1:]
    dot, comma = number.rfind("."), number.rfind(",")
    if dot >= 0 and comma >= 0:
        decimal_mark = "." if dot > comma else ","
        thousands = "," if decimal_mark == "." else "."
        number = number.replace(thousands, "").replace(decimal_mark, ".")
    elif dot >= 0 or comma >= 0:
        mark = "." if dot >= 0 else ","
        whole, _, fraction = number.rpartition(mark)
        if number.count(mark) > 1 or (len(fraction) == 3 and whole and whole != "0"):
            number = number.replace(mark, "")
        else:
            number = f"{whole}.{fraction}"
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", number):
        return None
    try:
        return Decimal(sign + number)
    except InvalidOperation:
        return None


def parse(value: object, default_currency: str | None = None) -> Price | None:
    """``value`` as a ``Price``; ``None`` if it holds no amount.

    >>> parse("€1.234,50")
    {'amount': '1234.50', 'currency': 'EUR'}
    >>> parse(12.5, "USD")
    {'amount': '12.5', 'currency': 'USD'}
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
        if not amount.is_finite():
            return None
        return {"amount": str(amount), "currency": default_currency}
    if not isinstance(value, str):
        return None
    match = _NUMBER.search(value)
    if match is None:
        return None
    parsed = _amount(match.group(0))
    if parsed is None:
        return None
    return {"amount": str(parsed), "currency": currency_of(value) or default_currency}
