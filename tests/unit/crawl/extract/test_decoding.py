"""Decoding response bodies: header charset, BOM, <meta>, fallback, never failing."""

from __future__ import annotations

import random

import pytest

from scrapeyard.crawl.extract import decoding

RUSSIAN = "<p>Привет, мир</p>"
JAPANESE = "<p>日本語のページ</p>"


def test_header_charset_decides_when_there_is_no_bom() -> None:
    body = RUSSIAN.encode("windows-1251")
    text, encoding = decoding.decode_html(body, "text/html; charset=windows-1251")
    assert text == RUSSIAN
    assert encoding == "cp1251"


def test_bom_wins_over_the_header_as_in_browsers() -> None:
    body = b"\xef\xbb\xbf" + JAPANESE.encode("utf-8")
    decoded = decoding.decode_html(body, "text/html; charset=shift_jis")
    assert decoded.text == JAPANESE  # the BOM itself is dropped
    assert decoded.encoding == "utf-8"


def test_utf16_bom_is_honoured() -> None:
    body = "\ufeff<p>ü</p>".encode("utf-16-le")
    assert decoding.decode_html(body, None).text == "<p>ü</p>"


@pytest.mark.parametrize(
    ("declaration", "codec", "page"),
    [
        ('<meta charset="shift_jis">', "shift_jis", JAPANESE),
        ("<meta charset=windows-1251>", "windows-1251", RUSSIAN),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
            "windows-1251",
            RUSSIAN,
        ),
    ],
)
def test_meta_declaration_is_used_without_a_header_charset(
    declaration: str, codec: str, page: str
) -> None:
    html = f"<html><head>{declaration}</head><body>{page}</body></html>"
    text, _ = decoding.decode_html(html.encode(codec), "text/html")
    assert page in text


def test_header_charset_beats_a_contradicting_meta() -> None:
    html = f"<meta charset=shift_jis>{RUSSIAN}"
    text, encoding = decoding.decode_html(html.encode("koi8-r"), "text/html; charset=koi8-r")
    assert RUSSIAN in text
    assert encoding == "koi8-r"


def test_undeclared_valid_utf8_is_utf8() -> None:
    assert decoding.decode_html("<p>café</p>".encode(), None) == ("<p>café</p>", "utf-8")


def test_undeclared_non_utf8_falls_back_to_windows_1252() -> None:
    assert decoding.decode_html("<p>café – 5€</p>".encode("cp1252"), None) == (
        "<p>café – 5€</p>",
        "cp1252",
    )


def test_wrong_declared_charset_replaces_bad_bytes_instead_of_failing() -> None:
    body = RUSSIAN.encode("windows-1251")
    text, encoding = decoding.decode_html(body, "text/html; charset=utf-8")
    assert encoding == "utf-8"
    assert "\ufffd" in text
    assert text.startswith("<p>") and text.endswith("</p>")


def test_unknown_charset_name_is_ignored() -> None:
    text, encoding = decoding.decode_html("<p>café</p>".encode(), "text/html; charset=no-such")
    assert (text, encoding) == ("<p>café</p>", "utf-8")


def test_empty_body() -> None:
    assert decoding.decode_html(b"", None) == ("", "utf-8")


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
    content_type = rng.choice([None, "text/html", "text/html; charset=utf-16", "x; charset="])
    text, encoding = decoding.decode_html(body, content_type)
    assert isinstance(text, str) and encoding
