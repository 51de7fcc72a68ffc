"""Normalising record values: text, URLs, e-mail addresses, phone numbers, prices."""

from __future__ import annotations

import unicodedata

import pytest

from scrapeyard.datasets import normalise


def test_text_is_nfc_with_whitespace_collapsed_and_no_control_characters() -> None:
    decomposed = "Cafe\u0301  M\u00fcller\t\n GmbH\x00\x07"
    cleaned = normalise.text(decomposed)
    assert cleaned == "Café Müller GmbH"
    assert unicodedata.is_normalized("NFC", cleaned)
    assert normalise.text("\u00a0 padded\u2003 ") == "padded"


def test_a_lone_surrogate_becomes_storable() -> None:
    cleaned = normalise.text("bad \ud800 text")
    cleaned.encode("utf-8")  # would raise for a lone surrogate
    assert cleaned.startswith("bad ") and cleaned.endswith(" text")


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        ("/about?x=1#team", "https://Example.com/a/b", "https://example.com/about?x=1"),
        ("contact.html", "https://example.com/a/b", "https://example.com/a/contact.html"),
        ("www.example.com", None, "https://www.example.com/"),
        ("HTTP://Example.COM:80/Path", None, "http://example.com/Path"),
        ("https://example.com:8443", None, "https://example.com:8443/"),
        ("  https://example.com/a b  ", None, "https://example.com/a b"),
        ("mailto:a@b.c", None, "mailto:a@b.c"),
    ],
)
def test_urls_become_absolute(value: str, base: str | None, expected: str) -> None:
    assert normalise.url(value, base) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Ann.Smith@Example.COM ", "ann.smith@example.com"),
        ("mailto:Info@Example.de?subject=Hi", "info@example.de"),
        ("MAILTO:x%40y@z.org", "x@y@z.org"),
    ],
)
def test_emails_are_lower_cased_without_mailto(value: str, expected: str) -> None:
    assert normalise.email(value) == expected


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("030 1234567", "DE", "+49301234567"),
        ("+49 (30) 123-4567", None, "+49301234567"),
        ("(650) 253-0000", "US", "+16502530000"),
        ("tel:+44 20 7946 0018", None, "+442079460018"),
        ("call us!", "DE", "call us!"),
        ("030 1234567", None, "030 1234567"),
    ],
)
def test_phones_become_e164_with_the_default_region(
    value: str, region: str | None, expected: str
) -> None:
    assert normalise.phone(value, region) == expected


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("url", "url"),
        ("website", "url"),
        ("product_url", "url"),
        ("imageUrl", "text"),
        ("email", "email"),
        ("contact_email", "email"),
        ("emails", "email"),
        ("phone", "phone"),
        ("phones", "phone"),
        ("fax", "phone"),
        ("Telephone", "phone"),
        ("price", "price"),
        ("sale_price", "price"),
        ("name", "text"),
        ("description", "text"),
    ],
)
def test_field_types_are_guessed_from_names(name: str, kind: str) -> None:
    assert normalise.infer_type(name) == kind


def test_a_record_is_normalised_field_by_field() -> None:
    record = normalise.record(
        {
            " Name ": "  ACME\u00a0 GmbH ",
            "website": "/",
            "emails": ["Sales@ACME.de", "mailto:INFO@acme.de"],
            "phone": "030 1234567",
            "price": "€1.234,50",
            "sku_link": "/p/1",
            "notes": {"a  b": [" x ", 3]},
            "empty": "   ",
            "none": None,
            "nothing": [],
        },
        types={"sku_link": "url"},
        base="https://acme.de/contact",
        region="DE",
    )
    assert record == {
        "Name": "ACME GmbH",
        "website": "https://acme.de/",
        "emails": ["sales@acme.de", "info@acme.de"],
        "phone": "+49301234567",
        "price": {"amount": "1234.50", "currency": "EUR"},
        "sku_link": "https://acme.de/p/1",
        "notes": {"a b": ["x", 3]},
    }


def test_raw_fields_are_left_alone_and_unparseable_prices_kept_as_text() -> None:
    record = normalise.record(
        {"blob": "  keep   me ", "price": "call for price"}, types={"blob": "raw"}
    )
    assert record == {"blob": "  keep   me ", "price": "call for price"}
