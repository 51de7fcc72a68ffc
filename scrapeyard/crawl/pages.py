"""One page's trip: robots.txt, the host's circuit and rate, the fetch, the extraction.

``PageWork.process(entry)`` decides a claimed URL's fate and returns it with the links
found on the page. It never raises for anything a web server can do: every failure
becomes a recorded outcome (or a retry), so one hostile page cannot stop a crawl.

With ``render`` (always or auto) an HTML page goes on to the browser once fetched
(``render.rendering``), and robots.txt is asked about each redirect on the way to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapeyard import errors
from scrapeyard.crawl import circuits, fetcher, politeness, retries, robots
from scrapeyard.crawl.extract import Document, extract_formats
from scrapeyard.crawl.extract import links as extract_links
from scrapeyard.crawl.frontier import Entry, Fate, Outcome, PageRecord, Tally
from scrapeyard.crawl.options import CrawlOptions
from scrapeyard.crawl.proxies import ProxyRotation

if TYPE_CHECKING:
    from scrapeyard.crawl.render import outputs, pool, rendering, transport

OFF_LOOP_BYTES = 512 * 1024
"""Pages larger than this are parsed in a thread, so heartbeats are not held up."""


@dataclass
class Processed:
    """A URL's outcome, the links on the page (absolute), and the redirect target."""

    outcome: Outcome
    links: list[str]
    tally: Tally
    final_url: str | None = None


def _error(exc: BaseException | str) -> dict[str, str]:
    if isinstance(exc, str):
        return {"type": "HTTPError", "message": exc}
    return {"type": type(exc).__name__, "message": str(exc)}


class PageWork:
    """Processes claimed URLs for one crawl."""

    def __init__(
        self,
        options: CrawlOptions,
        *,
        client: fetcher.Fetcher,
        robots_cache: robots.RobotsCache,
        limits: politeness.Politeness,
        breaker: circuits.CircuitBreaker,
        browsers: pool.BrowserPool | None = None,
        captures: outputs.CaptureStore | None = None,
    ) -> None:
        self.options = options
        self.client = client
        self.robots = robots_cache
        self.limits = limits
        self.breaker = breaker
        self.retry_policy = retries.FetchRetryPolicy(max_attempts=options.retries)
        self.rotation = ProxyRotation(options.proxies) if options.proxies else None
        self.timeouts = fetcher.Timeouts(
            connect=min(10.0, options.timeout), read=options.timeout, total=options.timeout
        )
        self.wants_links = options.follows_links or "links" in options.plan.formats
        self.renderer: rendering.PageRenderer | None = None
        self._transport: transport.CrawlTransport | None = None
        if options.render.enabled and browsers is not None:
            self._start_renderer(browsers, captures)

    def _start_renderer(
        self, browsers: pool.BrowserPool, captures: outputs.CaptureStore | None
    ) -> None:
        from scrapeyard.crawl.render import rendering, transport

        self._transport = transport.CrawlTransport(
            self.options,
            client=self.client,
            robots_cache=self.robots,
            limits=self.limits,
            timeouts=self.timeouts,
        )
        self.renderer = rendering.PageRenderer(
            self.options,
            browsers=browsers,
            transport=self._transport,
            extract=self._extract_document,
            captures=captures,
        )

    async def close(self) -> None:
        """Close the job's browser context, if it rendered pages."""
        if self.renderer is not None:
            await self.renderer.close()

    async def process(self, entry: Entry, *, stop: asyncio.Event | None = None) -> Processed:
        """Fetch ``entry`` (politely) and decide what becomes of it.

        If ``stop`` is set while the request waits for its host's turn, the URL is put
        back untried (a retry that uses up no attempt).
        """
        if self._transport is not None:
            self._transport.stop = stop
        try:
            return await self._process(entry, stop)
        except errors.CrawlError as exc:
            return self._failed(entry, exc)
        except errors.InvalidInput as exc:
            return self._failed(entry, exc)

    async def _process(self, entry: Entry, stop: asyncio.Event | None) -> Processed:
        url = entry.url
        # An address the SSRF guard refuses is reported as such, rather than as a
        # robots.txt that could not be fetched (names are judged when resolved).
        self.client.policy.check_host(urllib.parse.urlsplit(url).hostname or "")
        crawl_delay = None
        if self.options.respect_robots:
            rules = await self.robots.get(url)
            if not rules.can_fetch(url, self.options.user_agent):
                if rules.status is robots.RobotsStatus.DISALLOW_ALL and (
                    entry.attempts + 1 < self.options.retries
                ):
                    # robots.txt is unreachable, not restrictive (RFC 9309: disallow
                    # until it recovers): try again once the failure has been forgotten.
                    outcome = Outcome(entry, Fate.RETRY, retry_in=self.robots.failure_ttl)
                    return Processed(outcome, [], Tally())
                return self._robots_blocked(entry, rules)
            crawl_delay = rules.crawl_delay(self.options.user_agent)
        host = _host_key(url)
        try:
            self.breaker.before_request(host)
        except errors.HostCircuitOpen:
            return _untried(entry, self.breaker.retry_in(host))
        proxy = self.rotation.next() if self.rotation else None
        started = time.monotonic()
        try:
            async with self.limits.request(
                host,
                self.options.rate_limit,
                self.options.max_connections_per_host,
                crawl_delay=crawl_delay,
                stop=stop,
            ):
                result = await self.client.fetch(
                    url,
                    headers=self.options.headers or None,
                    cookies=self.options.cookies or None,
                    proxy=proxy,
                    timeouts=self.timeouts,
                    max_body_bytes=self.options.max_body_bytes,
                    user_agent=self.options.user_agent,
                    before_redirect=self._transport.allowed if self._transport else None,
                )
        except politeness.Stopped:
            return _untried(entry, 0.0)
        except (errors.FetchTimeout, errors.ConnectionFailed) as exc:
            self.breaker.failed(host)
            if proxy is not None and self.rotation is not None:
                self.rotation.failed(proxy)
            delay = self.retry_policy.decide(entry.attempts + 1, error=exc)
            if delay is not None:
                return Processed(Outcome(entry, Fate.RETRY, retry_in=delay), [], Tally())
            return self._failed(entry, exc, elapsed=time.monotonic() - started)
        elapsed = time.monotonic() - started
        if proxy is not None and self.rotation is not None:
            self.rotation.succeeded(proxy)
        if retries.is_retryable_status(result.status):
            self.breaker.failed(host)
            delay = self.retry_policy.decide(
                entry.attempts + 1, status=result.status, headers=result.headers
            )
            if delay is not None:
                return Processed(Outcome(entry, Fate.RETRY, retry_in=delay), [], Tally())
        else:
            self.breaker.succeeded(host)
        return await self._fetched(entry, result, elapsed, stop)

    async def _fetched(
        self,
        entry: Entry,
        result: fetcher.FetchResult,
        elapsed: float,
        stop: asyncio.Event | None = None,
    ) -> Processed:
        ok = 200 <= result.status < 300
        tally = Tally(bytes=result.bytes_read)
        data: dict[str, Any] | None = None
        links: list[str] = []
        if ok and result.is_html and self.renderer is not None:
            rendered = await self._rendered(entry, result, stop)
            if isinstance(rendered, Processed):
                return rendered
            data, links = rendered
            tally.fetched = 1
        elif ok and result.is_html:
            data, links = await self._extract(result)
            tally.fetched = 1
        elif ok:
            tally.fetched = 1
            tally.skipped_content_type = 1
        else:
            tally.failed = 1
        record = PageRecord(
            url=entry.url,
            url_hash=entry.url_hash,
            final_url=result.final_url,
            depth=entry.depth,
            ok=ok,
            status=result.status,
            content_type=result.content_type,
            bytes=result.bytes_read,
            elapsed=round(elapsed, 4),
            content_hash=hashlib.blake2b(result.body, digest_size=16).hexdigest(),
            data=data if self.options.stores_pages else None,
            error=None if ok else _error(f"HTTP {result.status}"),
            fetched_at=datetime.now(UTC),
        )
        fate = Fate.DONE if ok else Fate.FAILED
        final = result.final_url if result.final_url != entry.url else None
        return Processed(Outcome(entry, fate, record), links, tally, final_url=final)

    async def _rendered(
        self, entry: Entry, result: fetcher.FetchResult, stop: asyncio.Event | None
    ) -> tuple[dict[str, Any], list[str]] | Processed:
        """The page through the browser: its data and links, or its fate if that failed."""
        from scrapeyard.crawl.render import rendering

        assert self.renderer is not None
        try:
            return await self.renderer.process(entry, result, stop=stop)
        except rendering.SlotWaitStopped:
            return _untried(entry, 0.0)
        except errors.BrowserCrashed as exc:
            if entry.attempts + 1 < self.options.retries:
                return Processed(Outcome(entry, Fate.RETRY, retry_in=1.0), [], Tally())
            return self._failed(entry, exc, elapsed=result.elapsed)
        except errors.RenderError as exc:
            return self._failed(entry, exc, elapsed=result.elapsed)

    async def _extract(self, result: fetcher.FetchResult) -> tuple[dict[str, Any], list[str]]:
        if len(result.body) > OFF_LOOP_BYTES:
            return await asyncio.to_thread(self._extract_now, result)
        return self._extract_now(result)

    async def _extract_document(
        self, page: Document, result: fetcher.FetchResult
    ) -> tuple[dict[str, Any], list[str]]:
        """``_extract`` for a document already decoded (the browser's DOM, say)."""
        if len(page.html) > OFF_LOOP_BYTES:
            return await asyncio.to_thread(self._extract_from, page, result)
        return self._extract_from(page, result)

    def _extract_now(self, result: fetcher.FetchResult) -> tuple[dict[str, Any], list[str]]:
        # The whole header, not ``result.content_type``: its charset decides the decoding.
        header = result.headers.get("Content-Type", result.content_type)
        page = Document.from_bytes(result.body, result.final_url, header)
        return self._extract_from(page, result)

    def _extract_from(
        self, page: Document, result: fetcher.FetchResult
    ) -> tuple[dict[str, Any], list[str]]:
        data: dict[str, Any] = dict(
            extract_formats(
                page, self.options.plan, status=result.status, content_type=result.content_type
            )
        )
        links: list[str] = []
        if self.options.follows_links:
            found = data.get("links")
            links = list(found) if isinstance(found, list) else extract_links.extract(page)
        return data, links

    def _robots_blocked(self, entry: Entry, rules: robots.Robots) -> Processed:
        record = self.robots_record(entry.url, entry.url_hash, entry.depth, rules)
        return Processed(Outcome(entry, Fate.SKIPPED, record), [], Tally(skipped_robots=1))

    def robots_record(self, url: str, key: str, depth: int, rules: robots.Robots) -> PageRecord:
        """The record of a URL robots.txt disallows: never fetched, reported once."""
        why = "" if rules.status is robots.RobotsStatus.PARSED else f" ({rules.reason})"
        message = f"robots.txt of {rules.origin} disallows this URL{why}"
        return _failure(url, key, depth, {"type": "RobotsDisallowed", "message": message})

    def _failed(self, entry: Entry, exc: BaseException, *, elapsed: float = 0.0) -> Processed:
        record = _failure(entry.url, entry.url_hash, entry.depth, _error(exc), elapsed)
        return Processed(Outcome(entry, Fate.FAILED, record), [], Tally(failed=1))


def _untried(entry: Entry, retry_in: float) -> Processed:
    """``entry`` put back without a request having been made."""
    outcome = Outcome(entry, Fate.RETRY, retry_in=retry_in, count_attempt=False)
    return Processed(outcome, [], Tally())


def _failure(
    url: str, key: str, depth: int, error: dict[str, str], elapsed: float = 0.0
) -> PageRecord:
    return PageRecord(
        url=url,
        url_hash=key,
        final_url=None,
        depth=depth,
        ok=False,
        status=None,
        content_type=None,
        bytes=0,
        elapsed=round(elapsed, 4),
        content_hash=None,
        data=None,
        error=error,
        fetched_at=datetime.now(UTC),
    )


def _host_key(url: str) -> str:
    """``host[:port]`` of a normalised URL: the unit of politeness."""
    rest = url.split("://", 1)[1]
    return rest.split("/", 1)[0].split("?", 1)[0]
