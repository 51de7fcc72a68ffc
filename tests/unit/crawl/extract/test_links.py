"""The links format and the fast href resolver."""

from __future__ import annotations

import urllib.parse

import pytest

from scrapeyard.crawl.extract import document, links

PAGE_URL = "https://shop.example/p/item.html?id=7"


def extract(html: str, url: str = PAGE_URL) -> list[str]:
    return links.extract(document.Document(html, url))


def test_links_are_absolute_unique_and_in_document_order() -> None:
    html = """
        <a href="/b">b</a>
        <a href="https://other.example/x">x</a>
        <a href="../c.html">c</a>
        <a href="/b#reviews">b again</a>
        <map><area href="d.html"></map>
        <a href="?page=2">next</a>
        <a href="//cdn.example/y">y</a>
    """
    assert extract(html) == [
        "https://shop.example/b",
        "https://other.example/x",
        "https://shop.example/c.html",
        "https://shop.example/p/d.html",
        "https://shop.example/p/item.html?page=2",
        "https://cdn.example/y",
    ]


@pytest.mark.parametrize(
    "href",
    [
        "javascript:void(0)",
        "JavaScript:alert(1)",
        "mailto:a@example.com",
        "tel:+14155550100",
        "data:text/html,hi",
        "ftp://files.example/x",
        "#top",
        "#",
        "",
        "   ",
        "http://[broken/",
    ],
)
def test_non_http_fragment_only_empty_and_broken_links_are_skipped(href: str) -> None:
    assert extract(f'<a href="{href}">x</a><a>no href</a>') == []


def test_base_href_changes_resolution() -> None:
    html = '<head><base href="https://static.example/root/"></head><a href="a.html">a</a>'
    assert extract(html) == ["https://static.example/root/a.html"]


def test_whitespace_around_and_newlines_inside_hrefs_are_ignored() -> None:
    assert extract('<a href="  /a\n/b\t  ">x</a>') == ["https://shop.example/a/b"]


def test_scheme_is_case_insensitive() -> None:
    assert extract('<a href="HTTPS://Shop.Example/A">x</a>') == ["https://Shop.Example/A"]


def test_links_of_a_malformed_page_are_still_found() -> None:
    html = "<table><a href=/one>1<tr><td><a href=/two>2</table></div></span><a href='/three'"
    assert extract(html) == ["https://shop.example/one", "https://shop.example/two"]


def test_empty_page_has_no_links() -> None:
    assert extract("") == []


HREFS = [
    "/",
    "/a/b.html",
    "/a/b?x=1&y=%20",
    "/a b",
    "/./a",
    "/a/../b",
    "/a/.hidden",
    "/a?",
    "//host.example/p",
    "https://other.example",
    "https://other.example/a/../b",
    "http://other.example/?q",
    "https://other.example/a?",
    "https://[::1]/x",
    "b/c",
    "../../up",
    "?q=2",
    ";params",
    ".",
    "..",
    "/é/ü?ß",
]


@pytest.mark.parametrize("base", [PAGE_URL, "http://h.example:8080/dir/", "https://h.example"])
@pytest.mark.parametrize("href", HREFS)
def test_fast_paths_agree_with_urljoin(base: str, href: str) -> None:
    expected = urllib.parse.urldefrag(urllib.parse.urljoin(base, href)).url
    assert links.Resolver(base)(href + "#frag") == expected


def test_resolver_without_an_http_base_never_invents_urls() -> None:
    resolve = links.Resolver("")
    assert resolve("/a") is None
    assert resolve("https://example.com/a") == "https://example.com/a"
