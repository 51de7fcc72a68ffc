"""The guard's way to the web: the crawl's own HTTP client, robots.txt and politeness.

``CrawlTransport`` is what ``guard.Guard`` calls for a page's requests. It uses the same
``Fetcher`` (SSRF guard, body limit, timeouts, proxies), ``RobotsCache`` and
``Politeness`` as the HTTP path, so a rendered page is held to every rule a fetched one
is. A navigation (a frame's document) asks robots.txt and takes a token and a connection
slot of its host; sub-resources only pass the SSRF guard, as a browser's would pass a
firewall. The job's own headers and cookies go to the hosts of its start URLs only.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from scrapeyard import errors
from scrapeyard.crawl import fetcher, politeness, robots

if TYPE_CHECKING:
    import asyncio

    import aiohttp

    from scrapeyard.crawl.options import CrawlOptions


class CrawlTransport:
    """Fetches on a rendered page's behalf within one crawl's rules."""

    def __init__(
        self,
        options: CrawlOptions,
        *,
        client: fetcher.Fetcher,
        robots_cache: robots.RobotsCache,
        limits: politeness.Politeness,
        timeouts: fetcher.Timeouts,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.options = options
        self.client = client
        self.robots = robots_cache
        self.limits = limits
        self.timeouts = timeouts
        self.stop = stop
        self._own_hosts = {urllib.parse.urlsplit(url).hostname for url in options.urls}

    def _headers(self, url: str, headers: Mapping[str, str]) -> dict[str, str]:
        merged = dict(headers)
        if self.options.headers and urllib.parse.urlsplit(url).hostname in self._own_hosts:
            merged.update(self.options.headers)
        return merged

    async def allowed(self, url: str) -> robots.Robots | None:
        """Raise ``RobotsDisallowed`` unless the crawl may navigate to ``url``; the
        rules that apply (``None`` when the crawl ignores robots.txt)."""
        if not self.options.respect_robots:
            return None
        rules = await self.robots.get(url)
        rules.require(url, self.options.user_agent)
        return rules

    async def navigate(self, url: str, headers: Mapping[str, str]) -> fetcher.FetchResult:
        # A forbidden address is refused as such, before robots.txt is asked for.
        self.client.policy.check_host(urllib.parse.urlsplit(url).hostname or "")
        rules = await self.allowed(url)
        host = _host_key(url)
        try:
            async with self.limits.request(
                host,
                self.options.rate_limit,
                self.options.max_connections_per_host,
                crawl_delay=rules.crawl_delay(self.options.user_agent) if rules else None,
                stop=self.stop,
            ):
                return await self.client.fetch(
                    url,
                    headers=self._headers(url, headers),
                    timeouts=self.timeouts,
                    max_body_bytes=self.options.max_body_bytes,
                    user_agent=self.options.user_agent,
                    follow_redirects=False,
                )
        except politeness.Stopped as exc:
            raise errors.FetchError(f"{url}: the crawl is stopping") from exc

    async def fetch(
        self, url: str, *, method: str, headers: Mapping[str, str], data: bytes | None
    ) -> fetcher.FetchResult:
        return await self.client.fetch(
            url,
            headers=self._headers(url, headers),
            timeouts=self.timeouts,
            max_body_bytes=self.options.max_body_bytes,
            user_agent=self.options.user_agent,
            method=method,
            data=data,
        )

    async def websocket(
        self, url: str, headers: Mapping[str, str]
    ) -> aiohttp.ClientWebSocketResponse:
        return await self.client.websocket(
            url, headers=headers, user_agent=self.options.user_agent, timeouts=self.timeouts
        )


def _host_key(url: str) -> str:
    """``host[:port]``: the unit of politeness, as ``pages`` keys it."""
    return url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
