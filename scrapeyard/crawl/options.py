"""What a scrape, map or crawl job asks for, validated from its JSON payload.

Every check happens here, once, when the job is submitted: a bad pattern, an unknown
format, a malformed selector or proxy is refused with an error that names the field
(``include_paths[2]``, ``selectors.price``, ``rate_limit.burst``), and nothing is
enqueued. The worker validates the same payload again when it runs the job, which
costs little and protects against payloads written straight into the database.

Payload keys (all optional but the URLs)::

    url / urls            one start URL, or a list (scrape: the pages to fetch)
    max_pages             pages at most (crawl default 1,000; map: URLs, default 5,000)
    max_depth             links followed from a start URL (start URLs are depth 0)
    include_paths         glob patterns on the path, or "re:<regex>"
    exclude_paths         likewise
    allow_subdomains      follow links to subdomains of the start hosts (false)
    allow_external        follow links to other hosts (false)
    use_sitemap           seed from robots.txt Sitemap: lines and /sitemap.xml (true)
    respect_robots        obey robots.txt (true)
    strip_params          query parameters removed from URLs, besides utm_*
    formats               html, text, markdown, links, metadata, jsonld, selectors, contacts
    selectors             {"name": "css::text" | "//xpath" | {"css": ..., "all": true}}
    region                default region for phone numbers (contacts), e.g. "DE"
    rate_limit            {"requests_per_second": 5, "burst": 10} per host; 0 = unlimited
    max_connections_per_host, concurrency
    headers, cookies, user_agent, proxies, timeout
    retries               fetch attempts per page for retryable failures (3)
    parallelism           worker processes that work this crawl together (1)
    webhook               http(s) URL told of the job's events, pages included (signed)
    dataset               put the pages into a dataset once the job is done
                          (see scrapeyard.datasets.spec; not for map jobs)
    render                never | always | auto: render pages in a headless browser;
                          with wait_for, actions, block_resources, viewport, and the
                          screenshot, screenshot@full_page and pdf formats
                          (see scrapeyard.crawl.render.options)
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from scrapeyard import errors
from scrapeyard.crawl import proxies
from scrapeyard.crawl import urls as url_rules
from scrapeyard.crawl.extract import formats as extract_formats
from scrapeyard.crawl.render import options as render_options
from scrapeyard.datasets import spec as dataset_spec

Mode = Literal["scrape", "map", "crawl"]
MODES: tuple[Mode, ...] = ("scrape", "map", "crawl")

DEFAULT_FORMATS: tuple[extract_formats.Format, ...] = ("metadata", "markdown")
DEFAULT_MAX_PAGES = {"crawl": 1000, "map": 5000}
MAX_URLS_PER_SCRAPE = 10_000
MAX_PAGES_LIMIT = 10_000_000
MAX_CONCURRENCY = 512

_KNOWN_KEYS = frozenset(
    {
        "url",
        "urls",
        "max_pages",
        "max_depth",
        "include_paths",
        "exclude_paths",
        "allow_subdomains",
        "allow_external",
        "use_sitemap",
        "respect_robots",
        "strip_params",
        "formats",
        "selectors",
        "region",
        "rate_limit",
        "max_connections_per_host",
        "concurrency",
        "headers",
        "cookies",
        "user_agent",
        "proxies",
        "timeout",
        "retries",
        "parallelism",
        "webhook",
        "dataset",
        "render",
        "wait_for",
        "actions",
        "block_resources",
        "viewport",
    }
)


@dataclass(frozen=True)
class RateLimit:
    """Requests per second per host, with a burst; 0 requests per second: unlimited."""

    requests_per_second: float = 5.0
    burst: int = 10

    @property
    def unlimited(self) -> bool:
        return self.requests_per_second == 0


@dataclass(frozen=True)
class CrawlDefaults:
    """What the operator's configuration sets for every job that does not say."""

    rate_limit: RateLimit = RateLimit()
    max_connections_per_host: int = 8
    respect_robots: bool = True
    user_agent: str = "scrapeyard"
    timeout: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    concurrency: int = 32
    allow_evaluate: bool | None = None
    """Whether jobs may run their own JavaScript; ``None`` where the operator's setting
    is not known (the step's shape is checked, the worker decides)."""


@dataclass(frozen=True)
class CrawlOptions:
    """A validated scrape, map or crawl request."""

    mode: Mode
    urls: tuple[str, ...]
    max_pages: int | None
    max_depth: int | None
    include_paths: tuple[str, ...]
    exclude_paths: tuple[str, ...]
    allow_subdomains: bool
    allow_external: bool
    use_sitemap: bool
    respect_robots: bool
    strip_params: tuple[str, ...]
    plan: extract_formats.Plan
    rate_limit: RateLimit
    max_connections_per_host: int
    concurrency: int
    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    user_agent: str
    proxies: tuple[proxies.Proxy, ...]
    timeout: float
    max_body_bytes: int
    retries: int
    parallelism: int
    normalizer: url_rules.Normalizer = field(repr=False, compare=False)
    scope: url_rules.Scope = field(repr=False, compare=False)
    render: render_options.RenderOptions = render_options.RenderOptions()

    @property
    def columns(self) -> tuple[str, ...]:
        """The names a record may carry beyond the facts, for a CSV header: the
        formats, then how each page was rendered and its captures."""
        if not self.render.enabled:
            return self.plan.formats
        return (*self.plan.formats, "render", *self.render.captures)

    @property
    def follows_links(self) -> bool:
        return self.mode != "scrape"

    @property
    def stores_pages(self) -> bool:
        return self.mode != "map"

    @classmethod
    def from_payload(
        cls, mode: str, payload: Mapping[str, Any], defaults: CrawlDefaults | None = None
    ) -> CrawlOptions:
        """Validate a job payload; ``InvalidInput`` names the first bad field."""
        if mode not in MODES:
            raise errors.InvalidInput("kind", f"must be one of {', '.join(MODES)}")
        defaults = defaults or CrawlDefaults()
        if not isinstance(payload, Mapping):
            raise errors.InvalidInput("payload", "must be a JSON object")
        unknown = sorted(set(payload) - _KNOWN_KEYS)
        if unknown:
            raise errors.InvalidInput(unknown[0], "unknown option")
        reader = _Reader(payload)
        if "dataset" in payload:
            dataset_spec.parse_target(payload["dataset"], mode)
        start_urls = reader.start_urls(mode)
        strip = reader.strings("strip_params", limit=100)
        normalizer = url_rules.Normalizer(strip)
        for index, url in enumerate(start_urls):
            try:
                normalizer(url)
            except errors.UnsupportedScheme:
                raise errors.InvalidInput(
                    f"urls[{index}]", "only http and https URLs can be fetched"
                ) from None
            except errors.InvalidInput as exc:
                raise errors.InvalidInput(f"urls[{index}]", exc.problem) from None
        include = reader.strings("include_paths", limit=100)
        exclude = reader.strings("exclude_paths", limit=100)
        max_depth = reader.integer("max_depth", None, low=0, high=1000)
        scope = url_rules.Scope(
            list(start_urls),
            allow_subdomains=reader.boolean("allow_subdomains", False),
            allow_external=reader.boolean("allow_external", False),
            include_paths=include,
            exclude_paths=exclude,
            max_depth=max_depth,
            normalizer=normalizer,
        )
        default_formats: object = ["links"] if mode == "map" else list(DEFAULT_FORMATS)
        if "selectors" in payload and "formats" not in payload:
            default_formats = []
        formats, captures = render_options.split_formats(payload.get("formats", default_formats))
        if captures and mode == "map":
            raise errors.InvalidInput("formats", f"a map stores no pages, so no {captures[0]}")
        render = render_options.RenderOptions.from_payload(
            payload, captures, allow_evaluate=defaults.allow_evaluate
        )
        plan = extract_formats.Plan.build(
            formats,
            selectors=payload.get("selectors"),
            default_region=payload.get("region"),
        )
        rate = reader.rate_limit(defaults.rate_limit)
        reader.webhook()
        return cls(
            mode=mode,
            urls=start_urls,
            max_pages=reader.max_pages(mode, len(start_urls)),
            max_depth=max_depth,
            include_paths=include,
            exclude_paths=exclude,
            allow_subdomains=scope.allow_subdomains,
            allow_external=scope.allow_external,
            use_sitemap=reader.boolean("use_sitemap", mode != "scrape"),
            respect_robots=reader.boolean("respect_robots", defaults.respect_robots),
            strip_params=strip,
            plan=plan,
            rate_limit=rate,
            max_connections_per_host=reader.integer(
                "max_connections_per_host", defaults.max_connections_per_host, low=1, high=1024
            )
            or defaults.max_connections_per_host,
            concurrency=reader.integer(
                "concurrency", defaults.concurrency, low=1, high=MAX_CONCURRENCY
            )
            or defaults.concurrency,
            headers=reader.mapping("headers"),
            cookies=reader.mapping("cookies"),
            user_agent=reader.text("user_agent", defaults.user_agent, limit=500),
            proxies=reader.proxies(),
            timeout=reader.number("timeout", defaults.timeout, low=0.1, high=600.0),
            max_body_bytes=defaults.max_body_bytes,
            retries=reader.integer("retries", 3, low=1, high=10) or 3,
            parallelism=reader.integer("parallelism", 1, low=1, high=64) or 1,
            normalizer=normalizer,
            scope=scope,
            render=render,
        )


class _Reader:
    """Typed access to a payload, raising ``InvalidInput`` with the field's name."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = payload

    def start_urls(self, mode: str) -> tuple[str, ...]:
        if "url" in self.payload and "urls" in self.payload:
            raise errors.InvalidInput("url", "give url or urls, not both")
        if "url" in self.payload:
            value: object = [self.payload["url"]]
            name = "url"
        else:
            value = self.payload.get("urls")
            name = "urls"
        if value is None or value == []:
            raise errors.InvalidInput("url", "a URL to start from is required")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
            raise errors.InvalidInput(name, "must be a URL or a list of URLs")
        limit = MAX_URLS_PER_SCRAPE if mode == "scrape" else 100
        if len(value) > limit:
            raise errors.InvalidInput(name, f"at most {limit} URLs")
        return tuple(dict.fromkeys(u.strip() for u in value))

    def max_pages(self, mode: str, url_count: int) -> int | None:
        if mode == "scrape":
            if "max_pages" in self.payload:
                raise errors.InvalidInput("max_pages", "a scrape fetches exactly its URLs")
            return url_count
        return self.integer("max_pages", DEFAULT_MAX_PAGES[mode], low=1, high=MAX_PAGES_LIMIT)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.payload.get(name, default)
        if not isinstance(value, bool):
            raise errors.InvalidInput(name, "must be true or false")
        return value

    def integer(self, name: str, default: int | None, *, low: int, high: int) -> int | None:
        value = self.payload.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.InvalidInput(name, "must be a whole number")
        if not low <= value <= high:
            raise errors.InvalidInput(name, f"must be between {low:,} and {high:,}")
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self.payload.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise errors.InvalidInput(name, "must be a number")
        if not low <= value <= high:
            raise errors.InvalidInput(name, f"must be between {low:g} and {high:g}")
        return float(value)

    def text(self, name: str, default: str, *, limit: int) -> str:
        value = self.payload.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise errors.InvalidInput(name, "must be a non-empty string")
        if len(value) > limit or any(c in value for c in "\r\n"):
            raise errors.InvalidInput(name, f"must be one line of at most {limit} characters")
        return value

    def strings(self, name: str, *, limit: int) -> tuple[str, ...]:
        value = self.payload.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise errors.InvalidInput(name, "must be a list of strings")
        if len(value) > limit:
            raise errors.InvalidInput(name, f"at most {limit} entries")
        return tuple(value)

    def mapping(self, name: str) -> Mapping[str, str]:
        value = self.payload.get(name, {})
        if not isinstance(value, Mapping):
            raise errors.InvalidInput(name, "must be an object of strings")
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                raise errors.InvalidInput(f"{name}.{key}", "must be a string")
            if any(c in key + item for c in "\r\n\0"):
                raise errors.InvalidInput(f"{name}.{key}", "must not contain line breaks")
        if len(value) > 100:
            raise errors.InvalidInput(name, "at most 100 entries")
        return dict(value)

    def proxies(self) -> tuple[proxies.Proxy, ...]:
        value = self.payload.get("proxies", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise errors.InvalidInput("proxies", "must be a list of proxy URLs")
        return tuple(
            proxies.Proxy.parse(item, f"proxies[{index}]") for index, item in enumerate(value)
        )

    def webhook(self) -> str | None:
        """The ``webhook`` URL (the worker subscribes it to the job's events), if any."""
        value = self.payload.get("webhook")
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > url_rules.MAX_URL_LENGTH:
            raise errors.InvalidInput("webhook", "must be an http or https URL")
        parts = urllib.parse.urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.InvalidInput("webhook", "must be an http or https URL")
        return value

    def rate_limit(self, default: RateLimit) -> RateLimit:
        value = self.payload.get("rate_limit")
        if value is None:
            return default
        if not isinstance(value, Mapping):
            raise errors.InvalidInput("rate_limit", "must be an object")
        unknown = sorted(set(value) - {"requests_per_second", "burst"})
        if unknown:
            raise errors.InvalidInput(f"rate_limit.{unknown[0]}", "unknown option")
        rps = value.get("requests_per_second", default.requests_per_second)
        burst = value.get("burst", default.burst)
        if isinstance(rps, bool) or not isinstance(rps, int | float) or not 0 <= rps <= 10_000:
            raise errors.InvalidInput(
                "rate_limit.requests_per_second", "must be a number from 0 (unlimited) to 10,000"
            )
        if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= 10_000:
            raise errors.InvalidInput("rate_limit.burst", "must be a whole number from 1 to 10,000")
        return RateLimit(float(rps), burst)


def validate(mode: str, payload: Mapping[str, Any]) -> None:
    """Raise ``InvalidInput`` if ``payload`` is not a valid ``mode`` job."""
    CrawlOptions.from_payload(mode, payload)
