"""Sitemaps: discovering a site's URLs from robots.txt ``Sitemap:`` lines and /sitemap.xml.

Both sitemap forms are read: ``<urlset>`` lists pages, ``<sitemapindex>`` lists more
sitemaps, followed breadth-first up to ``max_depth`` levels and ``max_sitemaps`` files.
Plain-text sitemaps (one URL a line) are read too. A gzipped sitemap is recognised by
its magic bytes, whatever its name or Content-Type says, and decompressed within the
same byte limit as everything else. A sitemap that is malformed, missing or too large
is skipped and recorded in ``Discovery.errors``; the URLs read before the fault are kept.

The XML is parsed with expat, event by event, so no document tree is ever built, and
any entity declaration stops the parse: that refuses "billion laughs" expansion and
external entities (XXE) alike, as defusedxml does. Legitimate sitemaps declare none.
"""

from __future__ import annotations

import asyncio
import collections
import xml.parsers.expat
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from scrapeyard import errors
from scrapeyard.crawl import bodies, fetcher, robots

MAX_BYTES = 50 * 1024 * 1024
"""The sitemaps.org limit on one sitemap, uncompressed."""
_FEED_SIZE = 64 * 1024
_INLINE_BYTES = 256 * 1024


class _Refused(Exception):
    """Raised from an expat handler to stop a parse."""


class _Full(Exception):
    """Raised from an expat handler when enough URLs have been read."""


@dataclass
class Sitemap:
    """What one sitemap file held."""

    kind: str
    """``"urlset"``, ``"sitemapindex"``, ``"text"``, or the unexpected root element."""
    locs: list[str] = field(default_factory=list)
    """Page URLs (urlset, text) or sitemap URLs (sitemapindex), in document order."""
    error: str | None = None
    """Why parsing stopped early, if it did."""


class _Handler:
    """expat callbacks that collect ``<loc>`` texts under ``<url>`` or ``<sitemap>``."""

    def __init__(self, sitemap: Sitemap, limit: int) -> None:
        self.sitemap = sitemap
        self.limit = limit
        self.path: list[str] = []
        self.text: list[str] | None = None

    def start(self, name: str, attrs: object) -> None:
        local = name.rpartition(" ")[2]
        if not self.path:
            self.sitemap.kind = local
        elif local == "loc" and len(self.path) == 2 and self.path[1] in ("url", "sitemap"):
            self.text = []
        self.path.append(local)

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, name: str) -> None:
        self.path.pop()
        if self.text is not None:
            loc = "".join(self.text).strip()
            self.text = None
            if loc:
                self.sitemap.locs.append(loc)
                if len(self.sitemap.locs) >= self.limit:
                    raise _Full

    def entity(self, *args: object) -> None:
        raise _Refused("entity declarations are not allowed in a sitemap")

    def external(
        self, context: str, base: str | None, system_id: str | None, public_id: str | None
    ) -> int:
        raise _Refused("external entities are not allowed in a sitemap")


def _parse_xml(body: bytes, limit: int) -> Sitemap:
    sitemap = Sitemap(kind="")
    handler = _Handler(sitemap, limit)
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    parser.EntityDeclHandler = handler.entity
    parser.UnparsedEntityDeclHandler = handler.entity
    parser.ExternalEntityRefHandler = handler.external
    try:
        for start in range(0, len(body), _FEED_SIZE):
            parser.Parse(body[start : start + _FEED_SIZE], False)
        parser.Parse(b"", True)
    except _Full:
        pass
    except _Refused as exc:
        sitemap.error = str(exc)
    except xml.parsers.expat.ExpatError as exc:
        sitemap.error = f"malformed XML ({exc})"
    if sitemap.kind not in ("urlset", "sitemapindex"):
        sitemap.error = sitemap.error or f"not a sitemap (root element {sitemap.kind!r})"
    return sitemap


def parse(body: bytes, *, limit: int = 50_000) -> Sitemap:
    """The URLs in a sitemap (XML or plain text), at most ``limit`` of them."""
    start = body.lstrip()[:1]
    if start in (b"<", b"\xef"):
        return _parse_xml(body, limit)
    sitemap = Sitemap(kind="text")
    for line in body.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if line.startswith(("http://", "https://")):
            sitemap.locs.append(line)
            if len(sitemap.locs) >= limit:
                break
    return sitemap


class Discovery:
    """Reads a site's sitemaps and yields the page URLs they list, each once.

    Limits: ``max_urls`` page URLs in all (``truncated`` tells whether it was hit),
    ``max_sitemaps`` files fetched, ``max_depth`` levels of sitemap indexes below the
    sitemaps named by robots.txt or guessed, and ``max_bytes`` per file, uncompressed.

    >>> async def seeds(client, robots_rules):  # doctest: +SKIP
    ...     discovery = Discovery(client)
    ...     return [u async for u in discovery.urls("https://example.com/", robots_rules.sitemaps)]
    """

    def __init__(
        self,
        client: fetcher.Fetcher,
        *,
        max_urls: int = 50_000,
        max_sitemaps: int = 50,
        max_depth: int = 3,
        max_bytes: int = MAX_BYTES,
        user_agent: str | None = None,
        timeouts: fetcher.Timeouts | None = None,
    ) -> None:
        self._client = client
        self.max_urls = max_urls
        self.max_sitemaps = max_sitemaps
        self.max_depth = max_depth
        self.max_bytes = max_bytes
        self._user_agent = user_agent
        self._timeouts = timeouts
        self.sitemaps_read: list[str] = []
        self.errors: list[tuple[str, str]] = []
        """(sitemap URL, what went wrong) for every sitemap skipped in part or whole."""
        self.truncated = False
        self._seen: set[str] = set()

    async def urls(self, start_url: str, sitemaps: Iterable[str] = ()) -> AsyncIterator[str]:
        """Page URLs from ``sitemaps`` (robots.txt's ``Sitemap:`` lines) and the
        origin's ``/sitemap.xml``, as each sitemap is read."""
        queue: collections.deque[tuple[str, int]] = collections.deque()
        queued: set[str] = set()
        for url in [*sitemaps, robots.origin_of(start_url) + "/sitemap.xml"]:
            if url not in queued:
                queued.add(url)
                queue.append((url, 0))
        while queue and len(self.sitemaps_read) < self.max_sitemaps:
            url, depth = queue.popleft()
            sitemap = await self._read(url)
            if sitemap is None:
                continue
            if sitemap.kind == "sitemapindex":
                if depth >= self.max_depth:
                    self.errors.append((url, f"sitemap index nested deeper than {self.max_depth}"))
                    continue
                for child in sitemap.locs:
                    if child not in queued:
                        queued.add(child)
                        queue.append((child, depth + 1))
                continue
            for loc in sitemap.locs:
                if loc not in self._seen:
                    if len(self._seen) >= self.max_urls:
                        self.truncated = True
                        return
                    self._seen.add(loc)
                    yield loc
        if queue:
            self.errors.append((queue[0][0], f"more than {self.max_sitemaps} sitemaps"))

    def _decode(self, raw: bytes) -> tuple[Sitemap, bool]:
        body, cut = bodies.gunzip(raw, self.max_bytes)
        return parse(body, limit=self.max_urls + 1), cut

    async def _read(self, url: str) -> Sitemap | None:
        self.sitemaps_read.append(url)
        try:
            result = await self._client.fetch(
                url,
                user_agent=self._user_agent,
                max_body_bytes=self.max_bytes,
                timeouts=self._timeouts,
                truncate=True,
            )
        except (errors.CrawlError, errors.InvalidInput) as exc:
            self.errors.append((url, str(exc)))
            return None
        if result.status != 200:
            self.errors.append((url, f"HTTP {result.status}"))
            return None
        try:
            small = len(result.body) <= _INLINE_BYTES
            if small and not result.body.startswith(bodies.GZIP_MAGIC):
                sitemap, cut = self._decode(result.body)
            else:
                # Megabytes of XML (maybe zipped) take a while to parse; the event loop
                # has fetches to run meanwhile.
                sitemap, cut = await asyncio.to_thread(self._decode, result.body)
        except errors.FetchError as exc:
            self.errors.append((url, str(exc)))
            return None
        if cut or result.truncated:
            self.errors.append((url, f"larger than {self.max_bytes} bytes; read in part"))
        if sitemap.error is not None:
            self.errors.append((url, sitemap.error))
        return sitemap
