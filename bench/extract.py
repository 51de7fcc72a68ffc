"""How long each extraction format takes per page, and what the alternatives cost.

    python -m bench.extract [--pages 300] [--repeat 5]

Uses the product pages of the crawl benchmark's site (``bench/site.py``: 15-40 KB, 10-30
content links plus header and footer), generated into a temporary directory. Every
figure is microseconds per page, the best of ``--repeat`` passes over all pages, on one
core. Parsing is timed on its own: a format row times only the format, on a page parsed
just before, except rows for libraries that parse HTML themselves (html-to-markdown,
markdownify), which include their parse, and the end-to-end rows, which start from the
response bytes. The first row of each section is the baseline for its ratios. Libraries
that are not installed (markdownify, BeautifulSoup: ``pip install markdownify``) are
skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import html_to_markdown
import parsel

from bench import site
from scrapeyard.crawl import extract
from scrapeyard.crawl.extract import (
    contacts,
    document,
    jsonld,
    links,
    markdown,
    metadata,
    selectors,
    text,
)

ORIGIN = "http://127.0.0.1:8080"
FIELD_CSS = {name: f"{query}::text" for name, query in site.SELECTORS.items()}
FIELD_XPATH = {
    name: f"//{query.split('.')[0]}[@class='{query.split('.')[1]}']/text()"
    for name, query in site.SELECTORS.items()
}


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    html: str


@dataclass(frozen=True)
class Row:
    section: str
    name: str
    micros: float


def load_pages(count: int) -> list[Page]:
    """The product pages of a generated site of about ``count`` pages."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        site.generate(root, count, seed=7)
        pages = []
        for path in sorted((root / "p").rglob("*.html")):
            body = path.read_bytes()
            url = ORIGIN + "/" + path.relative_to(root).as_posix()
            pages.append(Page(url, body, body.decode()))
    return pages


def best_micros(
    items: Sequence[Any],
    run: Callable[[Any], object],
    repeat: int,
    prepare: Callable[[Any], Any] | None = None,
) -> float:
    """Best of ``repeat`` passes of ``run`` over ``items``, in µs per item.

    ``prepare`` (not timed) turns each item into ``run``'s argument just before the
    call, so a format runs on a page parsed a moment ago, with its tree still in the CPU
    caches, as in a crawl; parsing every page first and then timing a format over all of
    them would charge the format for cache misses.
    """
    best = float("inf")
    clock = time.perf_counter
    for _ in range(repeat):
        total = 0.0
        for item in items:
            argument = prepare(item) if prepare is not None else item
            started = clock()
            run(argument)
            total += clock() - started
        best = min(best, total / len(items))
    return best * 1e6


# -- the alternatives measured against ours --------------------------------------------


def lexbor_urljoin_links(page: document.Document) -> list[str]:
    found: dict[str, None] = {}
    for node in page.tree.css("a[href]"):
        url = urllib.parse.urljoin(page.url, (node.attrs.get("href") or "").strip())
        url = urllib.parse.urldefrag(url).url
        if url.startswith(("http://", "https://")):
            found[url] = None
    return list(found)


def parsel_links(sel: parsel.Selector, url: str) -> list[str]:
    found: dict[str, None] = {}
    for href in sel.css("a::attr(href)").getall():
        joined = urllib.parse.urldefrag(urllib.parse.urljoin(url, href.strip())).url
        if joined.startswith(("http://", "https://")):
            found[joined] = None
    return list(found)


def parsel_fields(sel: parsel.Selector) -> dict[str, str | None]:
    return {name: sel.css(query).get() for name, query in FIELD_CSS.items()}


_PLAIN = html_to_markdown.ConversionOptions(extract_metadata=False, output_format="plain")
_MARKDOWN = html_to_markdown.ConversionOptions(extract_metadata=False)


def markdownify_or_none() -> Callable[[str], str] | None:
    if importlib.util.find_spec("markdownify") is None:
        return None
    import markdownify

    def convert(html: str) -> str:
        return str(markdownify.markdownify(html))

    return convert


def beautifulsoup_or_none() -> Callable[[str], object] | None:
    if importlib.util.find_spec("bs4") is None:
        return None
    import bs4

    def parse(html: str) -> object:
        return bs4.BeautifulSoup(html, "lxml")

    return parse


# -- the run ---------------------------------------------------------------------------


def parsed(page: Page) -> document.Document:
    doc = document.Document(page.html, page.url)
    doc.tree  # noqa: B018 - parse before the clock starts
    return doc


def with_selector(page: Page) -> tuple[parsel.Selector, str]:
    return parsel.Selector(text=page.html), page.url


def ours(plan: extract.Plan) -> Callable[[Page], object]:
    """Decode, parse and extract ``plan`` from one page, as a worker does."""

    def run(page: Page) -> object:
        doc = extract.Document.from_bytes(page.body, page.url, "text/html; charset=utf-8")
        return extract.extract_formats(doc, plan, status=200)

    return run


def scrapy_style(page: Page) -> object:
    """The crawl benchmark's extraction the way a Scrapy spider does it, with parsel."""
    sel = parsel.Selector(text=extract.decode_html(page.body, "text/html").text)
    return parsel_links(sel, page.url), parsel_fields(sel)


def measure(pages: list[Page], repeat: int) -> list[Row]:
    """Every row of the report, in order; the first row of a section is the baseline."""
    rows: list[Row] = []
    few = max(1, repeat // 3)  # for the slow rows

    def add(
        section: str,
        name: str,
        run: Callable[[Any], object],
        prepare: Callable[[Page], Any] | None = None,
        passes: int = repeat,
    ) -> None:
        rows.append(Row(section, name, best_micros(pages, run, passes, prepare)))

    def html_of(page: Page) -> str:
        return page.html

    add("decode", "w3lib html_to_unicode (ours)", lambda p: extract.decode_html(p.body, None))

    add("parse", "selectolax lexbor (ours)", lambda h: document.Document(h, "").tree, html_of)
    add("parse", "parsel / lxml", lambda h: parsel.Selector(text=h), html_of)
    soup = beautifulsoup_or_none()
    if soup is not None:
        add("parse", "BeautifulSoup(lxml)", soup, html_of, few)

    add("links", "lexbor + fast resolver (ours)", links.extract, parsed)
    add("links", "lexbor + urljoin", lexbor_urljoin_links, parsed)
    add("links", "parsel CSS + urljoin", lambda s: parsel_links(*s), with_selector)

    css = extract.Plan.build([], selectors=FIELD_CSS).fields
    xpath = extract.Plan.build([], selectors=FIELD_XPATH).fields
    section = "selectors (title, price, SKU)"
    add(section, "lexbor CSS ::text (ours)", lambda d: selectors.extract(d, css), parsed)
    add(section, "parsel CSS ::text (cssselect)", lambda s: parsel_fields(s[0]), with_selector)
    add(
        section, "XPath, incl. its lxml parse (ours)", lambda d: selectors.extract(d, xpath), parsed
    )

    add("text", "lexbor main content (ours)", text.extract, parsed)
    plain = lambda h: html_to_markdown.convert(h, _PLAIN).content  # noqa: E731
    add("text", "html-to-markdown plain text, whole page", plain, html_of)

    add("markdown", "html-to-markdown, main content (ours)", markdown.extract, parsed)
    whole = lambda h: html_to_markdown.convert(h, _MARKDOWN).content  # noqa: E731
    add("markdown", "html-to-markdown, whole page", whole, html_of)
    to_markdown = markdownify_or_none()
    if to_markdown is not None:
        add("markdown", "markdownify (BeautifulSoup), whole page", to_markdown, html_of, few)

    add("metadata", "lexbor, one pass over <meta> (ours)", metadata.extract, parsed)
    add("jsonld", "lexbor + orjson (ours)", jsonld.extract, parsed)
    region = lambda d: contacts.extract(d, default_region="GB")  # noqa: E731
    add("contacts", "lexbor + phonenumbers, region GB (ours)", region, parsed, few)

    crawl = extract.Plan.build(["links"], selectors=FIELD_CSS)
    everything = extract.Plan.build(list(extract.FORMATS), selectors=FIELD_CSS, default_region="GB")
    section = "end to end, from bytes"
    add(section, "crawl benchmark: links + 3 CSS fields (ours)", ours(crawl))
    add(section, "the same with parsel (Scrapy-style)", scrapy_style)
    add(section, "all eight formats (ours)", ours(everything), passes=few)
    return rows


def report(pages: list[Page], rows: list[Row]) -> None:
    sizes = [len(page.body) for page in pages]
    print(
        f"{len(pages)} product pages, {min(sizes) // 1024}-{max(sizes) // 1024} KB "
        f"(mean {statistics.mean(sizes) / 1024:.1f} KB); µs per page, best pass, one core"
    )
    section = None
    first = 0.0
    for row in rows:
        if row.section != section:
            section, first = row.section, row.micros
            print(f"\n{section}")
        ratio = f"{row.micros / first:6.1f}x" if row.micros != first else "       "
        print(f"  {row.name:<48} {row.micros:9.1f} µs {ratio}")
    crawl = next(row for row in rows if row.name.startswith("crawl benchmark"))
    print(f"\ncrawl benchmark extraction alone: {1e6 / crawl.micros:,.0f} pages/s on one core")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=300, help="size of the generated site")
    parser.add_argument("--repeat", type=int, default=5, help="passes per measurement")
    args = parser.parse_args(argv)
    pages = load_pages(args.pages)
    report(pages, measure(pages, args.repeat))


if __name__ == "__main__":
    main()
