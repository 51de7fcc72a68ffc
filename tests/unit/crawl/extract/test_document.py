"""The shared Document: decoding, lazy parsing and the base URL."""

from __future__ import annotations

import pytest

from scrapeyard.crawl.extract import document


def test_from_bytes_decodes_with_the_content_type() -> None:
    page = document.Document.from_bytes(
        "<title>Привет</title>".encode("koi8-r"),
        "https://example.com/",
        "text/html; charset=koi8-r",
    )
    assert page.html == "<title>Привет</title>"
    assert page.encoding == "koi8-r"
    title = page.tree.css_first("title")
    assert title is not None and title.text() == "Привет"


def test_trees_are_built_only_when_used() -> None:
    page = document.Document("<p>x</p>", "https://example.com/")
    assert "tree" not in vars(page) and "selector" not in vars(page)
    assert page.tree is page.tree  # parsed once, then shared
    assert "selector" not in vars(page)
    assert page.selector.xpath("//p/text()").get() == "x"


def test_noscript_in_head_does_not_push_head_elements_into_the_body() -> None:
    html = (
        '<html><head><noscript><img src="/pixel.gif"></noscript>'
        '<link rel="canonical" href="/a"></head><body></body></html>'
    )
    page = document.Document(html, "https://example.com/")
    assert page.tree.css_first("head link[rel=canonical]") is not None


@pytest.mark.parametrize(
    ("html", "url", "base"),
    [
        ("<p>no base</p>", "https://example.com/a/b?q=1#frag", "https://example.com/a/b?q=1"),
        ('<base href="/docs/">', "https://example.com/a/b", "https://example.com/docs/"),
        ('<base href="sub/">', "https://example.com/a/b", "https://example.com/a/sub/"),
        (
            '<base href="https://cdn.example.net/x/">',
            "https://example.com/",
            "https://cdn.example.net/x/",
        ),
        ('<base href="javascript:alert(1)">', "https://example.com/a", "https://example.com/a"),
        ('<base href="http://[bad">', "https://example.com/a", "https://example.com/a"),
        (
            '<base target="_blank"><base href="/second/">',
            "https://example.com/",
            "https://example.com/second/",
        ),
    ],
)
def test_base_url(html: str, url: str, base: str) -> None:
    assert document.Document(html, url).base_url == base


def test_deep_nesting_is_flattened_for_parsing_but_html_is_kept() -> None:
    html = "<div>" * 100_000 + "deep text" + "</div>" * 100_000
    page = document.Document(html, "https://example.com/")
    assert page.html is html
    body = page.tree.body
    assert body is not None and body.text() == "deep text"
    assert page.selector.xpath("string(//body)").get() == "deep text"


def test_a_str_with_lone_surrogates_still_parses() -> None:
    page = document.Document("<p>\ud800 café</p>", "https://example.com/")
    body = page.tree.body
    assert body is not None and body.text().endswith(" café")
