"""What the jobs of one worker process share: one HTTP client, one robots.txt cache,
one set of circuit breakers and politeness records, the crawl storage, and one browser
pool for the jobs that render pages.

Built lazily on first use and closed when the worker stops. The crawl engine (HTTP
client, parsers) is imported on first use too: a worker that has run no crawl stays
small, which is what the memory figures at rest measure.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from scrapeyard import config
from scrapeyard.queue import hosts
from scrapeyard.queue.crawls import CrawlStore
from scrapeyard.queue.hosts import HostStore
from scrapeyard.queue.store import JobStore

if TYPE_CHECKING:
    import aiohttp.abc

    from scrapeyard.crawl import addresses, circuits, fetcher, politeness, robots
    from scrapeyard.crawl.options import CrawlDefaults
    from scrapeyard.crawl.render import pool, runtime
    from scrapeyard.crawl.robots import Robots as RobotsRules


def crawl_defaults(settings: config.Settings) -> CrawlDefaults:
    """The crawl defaults the configuration sets."""
    from scrapeyard.crawl.options import CrawlDefaults, RateLimit

    crawl = settings.crawl
    return CrawlDefaults(
        rate_limit=RateLimit(crawl.rate_limit.requests_per_second, crawl.rate_limit.burst),
        max_connections_per_host=crawl.max_connections_per_host,
        respect_robots=crawl.respect_robots,
        user_agent=crawl.user_agent,
        timeout=crawl.timeout,
        max_body_bytes=crawl.max_body_bytes,
        allow_evaluate=settings.browser.allow_evaluate,
    )


def browser_config(settings: config.Settings) -> runtime.BrowserConfig:
    """The browser settings, as the render pool takes them."""
    from scrapeyard.crawl.render import runtime

    browser = settings.browser
    return runtime.BrowserConfig(
        executable_path=browser.executable_path,
        max_pages=browser.max_pages,
        restart_after_pages=browser.restart_after_pages,
        memory_limit_mb=browser.memory_limit_mb,
        js_heap_mb=browser.js_heap_mb,
        block_resources=tuple(browser.block_resources),
        allow_evaluate=browser.allow_evaluate,
        args=tuple(browser.args),
    )


class Resources:
    """Shared, lazily built resources of one worker process.

    ``resolver`` replaces the system's DNS lookups for crawls (the SSRF guard still
    judges every address it returns): for split-horizon DNS, and for tests.
    ``data_dir`` is where imports are read from and exports and archives written.
    ``browser`` configures the browser pool of jobs with ``render`` (built on first use).
    """

    def __init__(
        self,
        store: JobStore,
        *,
        worker_id: str,
        defaults: CrawlDefaults | None = None,
        allowed_networks: Sequence[str] = (),
        lease: float = 30.0,
        resolver: aiohttp.abc.AbstractResolver | None = None,
        robots_failure_ttl: float = 60.0,
        data_dir: Path | None = None,
        browser: runtime.BrowserConfig | None = None,
    ) -> None:
        self.store = store
        self.data_dir = data_dir if data_dir is not None else config.DEFAULT_DATA_DIR
        self.worker_id = worker_id
        self._defaults = defaults
        self.allowed_networks = list(allowed_networks)
        self.lease = lease
        self._resolver = resolver
        self.robots_failure_ttl = robots_failure_ttl
        self.crawls = CrawlStore(store.db)
        self.hosts = HostStore(store.db, worker_id, lease=lease)
        self._fetcher: fetcher.Fetcher | None = None
        self._robots: robots.RobotsCache | None = None
        self._politeness: politeness.Politeness | None = None
        self._browser_config = browser
        self._browsers: pool.BrowserPool | None = None

    @classmethod
    def from_settings(
        cls, store: JobStore, settings: config.Settings, *, worker_id: str
    ) -> Resources:
        return cls(
            store,
            worker_id=worker_id,
            defaults=crawl_defaults(settings),
            allowed_networks=settings.allowed_networks,
            lease=settings.queue.lease_duration,
            data_dir=settings.data_dir,
            browser=browser_config(settings),
        )

    @property
    def crawl_defaults(self) -> CrawlDefaults:
        if self._defaults is None:
            from scrapeyard.crawl.options import CrawlDefaults

            self._defaults = CrawlDefaults()
        return self._defaults

    @functools.cached_property
    def policy(self) -> addresses.AddressPolicy:
        from scrapeyard.crawl import addresses

        return addresses.AddressPolicy(self.allowed_networks)

    @functools.cached_property
    def circuits(self) -> circuits.CircuitBreaker:
        from scrapeyard.crawl import circuits

        return circuits.CircuitBreaker()

    @property
    def politeness(self) -> politeness.Politeness:
        if self._politeness is None:
            from scrapeyard.crawl import politeness

            self._politeness = politeness.Politeness(shared=self.hosts)
        return self._politeness

    @property
    def fetcher(self) -> fetcher.Fetcher:
        if self._fetcher is None:
            from scrapeyard.crawl import fetcher

            defaults = self.crawl_defaults
            self._fetcher = fetcher.Fetcher(
                self.policy,
                user_agent=defaults.user_agent,
                timeouts=fetcher.Timeouts(
                    connect=min(10.0, defaults.timeout),
                    read=defaults.timeout,
                    total=defaults.timeout,
                ),
                max_body_bytes=defaults.max_body_bytes,
                limit=1024,
                resolver=self._resolver,
            )
        return self._fetcher

    @property
    def robots(self) -> robots.RobotsCache:
        if self._robots is None:
            from scrapeyard.crawl import robots

            self._robots = robots.RobotsCache(
                self.fetcher,
                user_agent=self.crawl_defaults.user_agent,
                failure_ttl=self.robots_failure_ttl,
                on_refreshed=self._record_robots,
            )
        return self._robots

    async def _record_robots(self, found: RobotsRules) -> None:
        """Keep a copy of the rules in force for the dashboard's Hosts page."""
        await hosts.record_robots(
            self.store.db,
            found.origin,
            status=str(found.status),
            reason=found.reason,
            body=found.text,
            sitemaps=found.sitemaps,
        )

    @property
    def browsers(self) -> pool.BrowserPool:
        """The process's browser pool (no browser starts until a page is rendered)."""
        if self._browsers is None:
            from scrapeyard.crawl.render import pool, runtime

            config = self._browser_config or runtime.BrowserConfig()
            if self._defaults is not None and self._defaults.allow_evaluate is not None:
                config = dataclasses.replace(config, allow_evaluate=self._defaults.allow_evaluate)
            self._browsers = pool.BrowserPool(config)
        return self._browsers

    async def close(self) -> None:
        if self._browsers is not None:
            await self._browsers.close()
            self._browsers = None
        if self._politeness is not None:
            await self._politeness.close()
        if self._fetcher is not None:
            await self._fetcher.close()
            self._fetcher = None
