"""One fetched HTML page, parsed once and shared by every extraction format.

Parsing is the largest fixed cost of extraction, so a ``Document`` parses its HTML on
first use with selectolax (lexbor, the fastest parser measured, see ``bench/extract.py``)
and every format reads the same tree. XPath needs an lxml tree, which costs a second
parse, so ``Document.selector`` builds a parsel ``Selector`` only when an XPath field is
asked for; CSS fields, including Scrapy's ``::text`` and ``::attr()``, run on lexbor.

>>> page = Document.from_bytes(b"<title>Hi</title>", "https://example.com/a")
>>> page.tree.css_first("title").text()
'Hi'

A ``Document`` is not thread-safe (lexbor is not); use one per thread.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from selectolax import lexbor

from scrapeyard.crawl.extract import decoding, links, nesting

if TYPE_CHECKING:
    import parsel


class Document:
    """The decoded HTML of one page and its URL, with lazily built parse trees."""

    def __init__(self, html: str, url: str, *, encoding: str = "utf-8") -> None:
        self.html = html
        """The page as decoded text; the ``html`` format returns it as it is."""
        self.url = url
        """The URL the page was fetched from (after redirects); relative links resolve
        against it, or against ``<base href>`` when the page has one."""
        self.encoding = encoding
        """The encoding the body was decoded with."""

    @classmethod
    def from_bytes(cls, body: bytes, url: str, content_type: str | None = None) -> Document:
        """Decode a response ``body`` (see ``decoding.decode_html``) into a document."""
        text, encoding = decoding.decode_html(body, content_type)
        return cls(text, url, encoding=encoding)

    @functools.cached_property
    def tree(self) -> lexbor.LexborHTMLParser:
        """The lexbor tree every format shares. Do not modify it; clone it first.

        Parsed with scripting enabled, as a browser does, so that a ``<noscript>`` in
        ``<head>`` stays one text node instead of pushing the rest of the head (canonical
        link, Open Graph tags) into the body. Nesting deeper than 512 levels is flattened
        first (``nesting.limit_depth``).
        """
        return lexbor.LexborHTMLParser(self._parseable, scripting=True)

    @functools.cached_property
    def selector(self) -> parsel.Selector:
        """A parsel (lxml) selector over the same HTML, built on first XPath use."""
        # Imported on first use: lxml and parsel cost ~18 MB, which CSS-only jobs never need.
        import parsel

        return parsel.Selector(text=self._parseable, type="html")

    @functools.cached_property
    def _parseable(self) -> str:
        # Both parsers read the same depth-limited text, so CSS and XPath agree.
        return nesting.limit_depth(self.html)

    @functools.cached_property
    def base_url(self) -> str:
        """The URL relative links resolve against: ``<base href>`` if it is an http(s)
        URL once resolved against ``url``, else ``url``; without any fragment."""
        page_url = self.url.partition("#")[0]
        base = self.tree.css_first("base[href]")
        href = base.attrs.get("href") if base is not None else None
        resolved = links.Resolver(page_url)(href) if href else None
        return resolved or page_url
