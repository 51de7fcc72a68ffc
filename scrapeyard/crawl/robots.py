"""robots.txt, one per origin, fetched once and cached, read as RFC 9309 says.

The file is fetched through the ``Fetcher`` (so the SSRF guard applies), following up
to five redirects, and the answer decides the rules:

- 2xx: the file is parsed with protego; only its first 500 KiB are read.
- 4xx (other than 429), or more than five redirects: no rules, everything is allowed.
- 429, 5xx, or the server cannot be reached: everything is disallowed, until a retry
  after ``failure_ttl`` seconds succeeds. If an earlier copy of the file is cached, it
  is used meanwhile instead, as the RFC allows.

Results are cached for ``ttl`` seconds (24 hours by default, the RFC's upper bound).
Concurrent requests for one origin share one fetch. ``on_refreshed`` hears of the rules
in force after each fetch (the worker keeps a copy in the database for the dashboard);
a failing listener is logged and never stops a crawl.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import protego
import yarl

from scrapeyard import errors
from scrapeyard.crawl import fetcher

MAX_BYTES = 500 * 1024
MAX_REDIRECTS = 5

log = logging.getLogger(__name__)


class RobotsStatus(enum.StrEnum):
    """What robots.txt said, in RFC 9309 terms."""

    PARSED = "parsed"
    """The file was fetched and its rules apply."""
    ALLOW_ALL = "allow_all"
    """The file is unavailable (4xx): no restrictions."""
    DISALLOW_ALL = "disallow_all"
    """The file is unreachable (5xx, network error): nothing may be fetched."""


@dataclass(frozen=True)
class Robots:
    """The robots.txt rules of one origin (``https://example.com``)."""

    origin: str
    status: RobotsStatus
    reason: str
    """Why: ``"HTTP 200"``, ``"HTTP 404"``, ``"cannot connect to ..."``."""
    sitemaps: tuple[str, ...] = ()
    """The ``Sitemap:`` lines, in order."""
    parser: protego.Protego | None = field(default=None, repr=False, compare=False)
    text: str | None = field(default=None, repr=False, compare=False)
    """The file as read (for a parsed file; ``None`` otherwise)."""

    def can_fetch(self, url: str, user_agent: str) -> bool:
        """Whether ``user_agent`` may fetch ``url`` (a URL on this origin)."""
        if self.status is RobotsStatus.DISALLOW_ALL:
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, user_agent))

    def require(self, url: str, user_agent: str) -> None:
        """Raise ``RobotsDisallowed`` unless ``user_agent`` may fetch ``url``."""
        if not self.can_fetch(url, user_agent):
            why = "" if self.status is RobotsStatus.PARSED else f" ({self.reason})"
            raise errors.RobotsDisallowed(f"robots.txt of {self.origin} disallows {url}{why}")

    def crawl_delay(self, user_agent: str) -> float | None:
        """The ``Crawl-delay`` for ``user_agent`` in seconds, if the file sets one."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return None if delay is None else float(delay)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, the key robots.txt rules are kept under."""
    try:
        parsed = yarl.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise ValueError("not an absolute http(s) URL")
        return str(parsed.origin())
    except ValueError as exc:
        raise errors.InvalidInput("url", f"not a valid http(s) URL ({exc})") from exc


def parse(origin: str, body: bytes, *, truncated: bool = False) -> Robots:
    """Rules from the bytes of a robots.txt file (UTF-8, as RFC 9309 says)."""
    if truncated:
        # The last line was probably cut in half; a partial rule could mean anything.
        body = body[: body.rfind(b"\n") + 1]
    text = body.decode("utf-8", errors="replace").removeprefix("\ufeff")
    parser = protego.Protego.parse(text)
    sitemaps = tuple(dict.fromkeys(url.strip() for url in parser.sitemaps if url.strip()))
    return Robots(origin, RobotsStatus.PARSED, "HTTP 200", sitemaps, parser, text)


@dataclass
class _Entry:
    robots: Robots
    expires: float


class RobotsCache:
    """robots.txt rules per origin: fetched on first use, cached, refreshed when stale.

    >>> async def allowed(client, url):  # doctest: +SKIP
    ...     cache = RobotsCache(client, user_agent="scrapeyard")
    ...     return await cache.can_fetch(url)
    """

    def __init__(
        self,
        client: fetcher.Fetcher,
        *,
        user_agent: str,
        ttl: float = 24 * 3600.0,
        failure_ttl: float = 60.0,
        max_bytes: int = MAX_BYTES,
        timeouts: fetcher.Timeouts | None = None,
        max_origins: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        on_refreshed: Callable[[Robots], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self.user_agent = user_agent
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.max_bytes = max_bytes
        self._timeouts = timeouts
        self._max_origins = max_origins
        self._clock = clock
        self._on_refreshed = on_refreshed
        self._entries: dict[str, _Entry] = {}
        self._pending: dict[str, asyncio.Task[Robots]] = {}

    def __len__(self) -> int:
        """How many origins' rules are cached."""
        return len(self._entries)

    async def get(self, url: str) -> Robots:
        """The rules for ``url``'s origin, fetching robots.txt if not cached or stale."""
        origin = origin_of(url)
        entry = self._entries.get(origin)
        if entry is not None and entry.expires > self._clock():
            return entry.robots
        task = self._pending.get(origin)
        if task is None:
            task = asyncio.ensure_future(self._refresh(origin))
            self._pending[origin] = task
            task.add_done_callback(lambda done: self._forget_pending(origin, done))
        # Shielded: one caller giving up must not cancel the fetch the others await.
        return await asyncio.shield(task)

    async def can_fetch(self, url: str, user_agent: str | None = None) -> bool:
        """Whether ``url`` may be fetched, by ``user_agent`` or the cache's own."""
        robots = await self.get(url)
        return robots.can_fetch(url, user_agent or self.user_agent)

    def _forget_pending(self, origin: str, task: asyncio.Task[Robots]) -> None:
        if self._pending.get(origin) is task:
            del self._pending[origin]

    async def _refresh(self, origin: str) -> Robots:
        robots = await self._fetch(origin)
        now = self._clock()
        if robots.status is RobotsStatus.DISALLOW_ALL:
            previous = self._entries.get(origin)
            if previous is not None and previous.robots.status is not RobotsStatus.DISALLOW_ALL:
                robots = previous.robots
            ttl = self.failure_ttl
        else:
            ttl = self.ttl
        self._entries.pop(origin, None)
        if len(self._entries) >= self._max_origins:
            del self._entries[next(iter(self._entries))]
        self._entries[origin] = _Entry(robots, now + ttl)
        if self._on_refreshed is not None:
            try:
                await self._on_refreshed(robots)
            except Exception:
                log.warning("could not record the robots.txt of %s", origin, exc_info=True)
        return robots

    async def _fetch(self, origin: str) -> Robots:
        try:
            result = await self._client.fetch(
                origin + "/robots.txt",
                user_agent=self.user_agent,
                max_body_bytes=self.max_bytes,
                max_redirects=MAX_REDIRECTS,
                timeouts=self._timeouts,
                truncate=True,
            )
        except errors.TooManyRedirects:
            return Robots(origin, RobotsStatus.ALLOW_ALL, "too many redirects")
        except errors.CrawlError as exc:
            return Robots(origin, RobotsStatus.DISALLOW_ALL, f"unreachable: {exc}")
        status = result.status
        if 200 <= status < 300:
            return parse(origin, result.body, truncated=result.truncated)
        if status == 429 or status >= 500:
            return Robots(origin, RobotsStatus.DISALLOW_ALL, f"HTTP {status}")
        return Robots(origin, RobotsStatus.ALLOW_ALL, f"HTTP {status}")
