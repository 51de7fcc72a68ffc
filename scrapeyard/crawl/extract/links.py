"""The ``links`` format: every http(s) link of a page, absolute, once, in document order.

Links come from ``<a href>`` and ``<area href>``. Each is resolved against the page's
base URL (``<base href>`` when present), its fragment is dropped, and only ``http`` and
``https`` URLs are kept, so ``javascript:``, ``mailto:``, ``tel:`` and ``data:`` links
disappear. An ``href`` that is empty or only a fragment (``#top``) points back into the
same page and is skipped. Further normalisation for de-duplication across pages
(``utm_*``, query order, percent-encoding) is the crawler's job (``crawl/urls.py``).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapeyard.crawl.extract import document

_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


class Resolver:
    """Makes the hrefs of one page absolute, fast.

    ``urllib.parse.urljoin`` costs about 4 µs a link and dominated link extraction, so
    the two commonest forms take a shortcut that gives the same result: root-relative
    paths (``/p/1.html``) and absolute http(s) URLs, both without dot segments. Everything
    else goes through ``urljoin``.

    >>> resolve = Resolver("https://example.com/a/b.html")
    >>> resolve("../c.html#top"), resolve("/d?x=1"), resolve("mailto:x@example.com")
    ('https://example.com/c.html', 'https://example.com/d?x=1', None)
    """

    def __init__(self, base: str) -> None:
        self.base = base.partition("#")[0]
        self._origin: str | None = None
        if self.base.startswith(("http://", "https://")) and "[" not in self.base:
            parts = urllib.parse.urlsplit(self.base)
            self._origin = f"{parts.scheme}://{parts.netloc}"

    def __call__(self, href: str) -> str | None:
        """``href`` as an absolute http(s) URL without fragment, or None if it is not one
        (another scheme, only a fragment, empty, or unparseable)."""
        href = href.strip()
        if "\t" in href or "\n" in href or "\r" in href:  # browsers drop them anywhere
            href = _TAB_OR_NEWLINE.sub("", href)
        href = href.partition("#")[0]
        if not href:
            return None
        origin = self._origin
        if origin is not None and "/." not in href and "[" not in href and href[-1] != "?":
            if href[0] == "/" and (len(href) == 1 or href[1] != "/"):
                return origin + href
            if href.startswith(("https://", "http://")):
                return href
        try:
            url = urllib.parse.urljoin(self.base, href)
        except ValueError:  # e.g. an unbalanced "[" in the host
            return None
        return url if url.startswith(("http://", "https://")) else None


def extract(page: document.Document) -> list[str]:
    """The page's http(s) links, absolute and de-duplicated, in document order."""
    resolve = Resolver(page.base_url)
    found: dict[str, None] = {}
    for node in page.tree.css("a[href], area[href]"):
        href = node.attrs.get("href")
        if href:
            url = resolve(href)
            if url is not None:
                found[url] = None
    return list(found)
