"""The metadata format."""

from __future__ import annotations

from scrapeyard.crawl.extract import document, metadata

FULL = """<!DOCTYPE html>
<html lang="en-GB"><head>
<title>
   Oak   Chair | Shop
</title>
<META NAME="Description" CONTENT="  A sturdy chair. ">
<link rel="stylesheet" href="/site.css">
<link rel="Canonical" href="/p/oak-chair">
<meta property="og:title" content="Oak Chair">
<meta property="og:image" content="https://cdn.example/1.jpg">
<meta property="og:image" content="https://cdn.example/2.jpg">
<meta name="og:site_name" content="Shop">
<meta property="og:description" content="">
<meta name="twitter:card" content="summary">
</head><body><svg><title>icon</title></svg></body></html>"""


def test_every_field() -> None:
    page = document.Document(FULL, "https://shop.example/p/oak-chair?ref=home")
    assert metadata.extract(page, status=200, content_type="text/html; charset=utf-8") == {
        "title": "Oak Chair | Shop",
        "description": "A sturdy chair.",
        "language": "en-GB",
        "canonical": "https://shop.example/p/oak-chair",
        "open_graph": {
            "og:title": "Oak Chair",
            "og:image": "https://cdn.example/1.jpg",
            "og:site_name": "Shop",
        },
        "status": 200,
        "content_type": "text/html; charset=utf-8",
    }


def test_absent_fields_are_none_or_empty() -> None:
    page = document.Document("<p>bare</p>", "https://example.com/")
    assert metadata.extract(page) == {
        "title": None,
        "description": None,
        "language": None,
        "canonical": None,
        "open_graph": {},
        "status": None,
        "content_type": None,
    }


def test_language_falls_back_to_content_language_meta() -> None:
    html = '<meta http-equiv="Content-Language" content="de"><title>x</title>'
    assert metadata.extract(document.Document(html, "https://example.com/"))["language"] == "de"


def test_canonical_resolves_against_base_href_and_skips_other_schemes() -> None:
    html = '<base href="https://www.example.com/en/"><link rel="alternate canonical" href="a">'
    page = document.Document(html, "https://example.com/")
    assert metadata.extract(page)["canonical"] == "https://www.example.com/en/a"
    page = document.Document('<link rel=canonical href="javascript:x">', "https://example.com/")
    assert metadata.extract(page)["canonical"] is None


def test_canonical_after_a_noscript_in_head_is_found() -> None:
    html = '<head><noscript><img src="/t.gif"></noscript><link rel="canonical" href="/c"></head>'
    page = document.Document(html, "https://example.com/x")
    assert metadata.extract(page)["canonical"] == "https://example.com/c"


def test_title_outside_head_is_used_when_head_has_none() -> None:
    page = document.Document("<body><title>Late</title></body>", "https://example.com/")
    assert metadata.extract(page)["title"] == "Late"
