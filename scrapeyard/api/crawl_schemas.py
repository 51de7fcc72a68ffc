"""Request and response bodies of the crawling endpoints (scrape, crawl, map, results).

The models describe and type-check each option for OpenAPI; the rules that need the
engine (URL syntax, path patterns, selectors, formats, proxies) are checked by the job
kind's validator when the job is enqueued, which reports the offending field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from scrapeyard.api.schemas import Job, Name, _Model, _storable

Url = Annotated[str, Field(min_length=1, max_length=8192), AfterValidator(_storable)]
Pattern = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_storable)]
Format = Literal[
    "html",
    "text",
    "markdown",
    "links",
    "metadata",
    "jsonld",
    "selectors",
    "contacts",
    "screenshot",
    "screenshot@full_page",
    "pdf",
]


class SelectorField(_Model):
    """A named field taken from each page by CSS (with ``::text``/``::attr(x)``) or XPath."""

    css: str | None = Field(None, description="A CSS selector, e.g. `.price::text`.")
    xpath: str | None = Field(None, description="An XPath expression, e.g. `//h1/text()`.")
    selector: str | None = Field(
        None, description="CSS or XPath, told apart by its first character (`/`, `(`: XPath)."
    )
    all: bool = Field(False, description="Every match as a list, instead of the first one.")


class WaitForSpec(_Model):
    """What a rendered page waits for before actions and extraction."""

    selector: str | None = Field(None, max_length=1000, description="A CSS selector.")
    network_idle: bool | None = Field(None, description="No request in flight for 0.5 s.")
    delay: float | None = Field(None, ge=0, le=30, description="A fixed pause, in seconds.")


class BrowserAction(_Model):
    """One step on a rendered page; which fields apply depends on `type`."""

    type: Literal["click", "type", "press", "scroll", "scroll_to_end", "wait", "evaluate"] = Field(
        description="What to do."
    )
    selector: str | None = Field(None, max_length=1000, description="click, type, press, wait.")
    text: str | None = Field(None, max_length=10_000, description="type: the text to enter.")
    key: str | None = Field(None, max_length=50, description="press: e.g. `Enter`.")
    pixels: int | None = Field(None, description="scroll: how far (default one viewport).")
    max_scrolls: int | None = Field(None, ge=1, le=200, description="scroll_to_end (20).")
    item_selector: str | None = Field(
        None, max_length=1000, description="scroll_to_end: stop when these stop growing."
    )
    seconds: float | None = Field(None, ge=0, le=30, description="wait: a fixed pause.")
    network_idle: bool | None = Field(None, description="wait: until no request is in flight.")
    script: str | None = Field(
        None, max_length=100_000, description="evaluate: JavaScript (if the operator allows)."
    )


class ViewportSpec(_Model):
    """The browser window's size, for layout and screenshots."""

    width: int = Field(1280, ge=200, le=3840, description="Pixels.")
    height: int = Field(800, ge=200, le=2160, description="Pixels.")


class RateLimitSpec(_Model):
    """Requests per host, shared by every crawl and worker on the database."""

    requests_per_second: float | None = Field(
        None, ge=0, le=10_000, description="0 means unlimited (default 5)."
    )
    burst: int | None = Field(None, ge=1, le=10_000, description="Token bucket size (10).")


class FetchOptions(_Model):
    """How pages are fetched and what is extracted from them."""

    formats: list[Format] | None = Field(
        None,
        description="What to extract from each HTML page (default: `metadata`, `markdown`; "
        "`links` for a map).",
    )
    selectors: dict[str, str | SelectorField] | None = Field(
        None, description="Named fields by selector; implies the `selectors` format."
    )
    region: str | None = Field(
        None, max_length=2, description="Default region for phone numbers (`contacts`)."
    )
    respect_robots: bool | None = Field(None, description="Obey robots.txt (default true).")
    user_agent: str | None = Field(None, max_length=500, description="User-Agent header.")
    headers: dict[str, str] | None = Field(None, description="Extra request headers.")
    cookies: dict[str, str] | None = Field(None, description="Cookies sent with each request.")
    proxies: list[Url] | None = Field(
        None, description="Proxy URLs, used in turn; failing ones are benched for a while."
    )
    timeout: float | None = Field(
        None, gt=0, le=600, description="Seconds one page may take (connect to last byte)."
    )
    rate_limit: RateLimitSpec | None = Field(None, description="Per-host rate limit.")
    max_connections_per_host: int | None = Field(
        None, ge=1, le=1024, description="Concurrent connections per host (default 8)."
    )
    concurrency: int | None = Field(
        None, ge=1, le=512, description="Pages in flight per worker process (default 32)."
    )
    retries: int | None = Field(
        None, ge=1, le=10, description="Fetch attempts for retryable failures (3)."
    )
    strip_params: list[Name] | None = Field(
        None, description="Query parameters removed from URLs, besides `utm_*`."
    )
    render: Literal["never", "always", "auto"] | None = Field(
        None,
        description="Render pages in headless Chromium: `always`, or `auto` (only pages whose "
        "content needs scripts); default `never`. Needed by waits, actions, screenshots, PDFs.",
    )
    wait_for: str | WaitForSpec | None = Field(
        None, description="A CSS selector to wait for, or what to wait for (rendered pages)."
    )
    actions: list[BrowserAction] | None = Field(
        None, max_length=50, description="Steps on each rendered page, in order (50 at most)."
    )
    block_resources: list[str] | None = Field(
        None, description="Resource types never loaded (default: image, font, media)."
    )
    viewport: ViewportSpec | None = Field(None, description="Window size (1280x800).")
    dataset: str | dict[str, Any] | None = Field(
        None,
        description="Put the pages into this dataset when the job is done: a name, or "
        '`{"name", "key", "fields", "full", "schema", "processors", "types", "region", '
        '"retention"}` (see the datasets endpoints). Not for a map.',
    )


class Placement(_Model):
    """Where the job goes on the queue."""

    priority: int | None = Field(None, ge=-1000, le=1000, description="Higher runs first.")
    queue: Name | None = Field(None, description="Queue name (default `default`).")
    unique_key: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="While an unfinished job holds this key, return it instead of a new one.",
    )


class ScrapeRequest(FetchOptions, Placement):
    """Scrape one page and wait for its record."""

    url: Url = Field(description="The page to fetch.")
    wait: float = Field(
        30.0,
        ge=0,
        le=300,
        description="Seconds to wait for the result before answering 202 with the job.",
    )


class BatchScrapeRequest(FetchOptions, Placement):
    """Scrape many pages as one job."""

    urls: list[Url] = Field(min_length=1, max_length=10_000, description="The pages to fetch.")


class ScopeOptions(_Model):
    """Which links a crawl follows."""

    max_depth: int | None = Field(
        None, ge=0, le=1000, description="Links followed from a start URL (start: depth 0)."
    )
    include_paths: list[Pattern] | None = Field(
        None, description="Only paths matching one of these globs (or `re:REGEX`)."
    )
    exclude_paths: list[Pattern] | None = Field(
        None, description="Never paths matching one of these globs (or `re:REGEX`)."
    )
    allow_subdomains: bool | None = Field(
        None, description="Follow links to subdomains of the start hosts (false)."
    )
    allow_external: bool | None = Field(None, description="Follow links to other hosts (false).")
    use_sitemap: bool | None = Field(
        None, description="Seed from robots.txt Sitemap: lines and /sitemap.xml (true)."
    )


class CrawlRequest(FetchOptions, ScopeOptions, Placement):
    """Crawl a site from one or more start URLs."""

    url: Url | None = Field(None, description="The start URL (or give `urls`).")
    urls: list[Url] | None = Field(
        None, max_length=100, description="Several start URLs (or give `url`)."
    )
    max_pages: int | None = Field(
        None, ge=1, le=10_000_000, description="Pages fetched at most (default 1,000)."
    )
    parallelism: int | None = Field(
        None, ge=1, le=64, description="Worker processes that work this crawl together (1)."
    )
    webhook: Url | None = Field(
        None, description="URL told about the crawl's progress and end (signed)."
    )


class MapRequest(FetchOptions, ScopeOptions, Placement):
    """List a site's URLs from its sitemaps and links, storing no page content."""

    url: Url = Field(description="The site's start URL.")
    max_pages: int | None = Field(
        None, ge=1, le=10_000_000, description="URLs found at most (default 5,000)."
    )
    wait: float = Field(
        30.0, ge=0, le=300, description="Seconds to wait for the list before answering 202."
    )


class Record(_Model):
    """What was stored for one URL: the response, then the formats extracted."""

    model_config = ConfigDict(extra="allow")

    url: str = Field(description="The URL requested (normalised).")
    final_url: str | None = Field(description="Where redirects ended.")
    status: int | None = Field(description="HTTP status; null when nothing was fetched.")
    ok: bool = Field(description="Fetched with a 2xx status.")
    depth: int | None = Field(description="Links followed from a start URL.")
    fetched_at: str | None = Field(description="When (ISO 8601).")
    content_type: str | None = Field(description="Media type of the response.")
    bytes: int | None = Field(description="Bytes received.")
    elapsed: float | None = Field(description="Seconds the fetch took.")
    content_hash: str | None = Field(description="Hash of the body, to spot changes.")
    error: dict[str, Any] | None = Field(
        description="Why the page failed or was skipped: `type` and `message`."
    )


class RecordPage(_Model):
    """Records of a job, in the order they were stored."""

    records: list[Record] = Field(description="The records on this page.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class Started(_Model):
    """A job accepted; follow it at its URLs."""

    job: Job = Field(description="The job, as stored.")
    status_url: str = Field(description="`GET` for its status and progress.")
    events_url: str = Field(description="`GET` for live Server-Sent Events.")
    results_url: str = Field(description="`GET` for its records, page by page.")


class ScrapeResult(_Model):
    """A finished scrape: its job and its page's record."""

    job: Job = Field(description="The job, as stored.")
    record: Record | None = Field(description="The page's record (null if none was stored).")


class MapResult(_Model):
    """A finished map: the URLs found."""

    job: Job = Field(description="The job, as stored.")
    urls: list[str] = Field(description="The URLs found, shallowest first.")


class Host(_Model):
    """A host crawls have touched: its shared rate limit, circuit and backlog."""

    host: str = Field(description="`host[:port]`.")
    tokens: float = Field(description="Requests it may take right now (token bucket).")
    requests_per_second: float = Field(description="Its rate limit (0: unlimited).")
    burst: int = Field(description="Its bucket size.")
    throttled: int = Field(description="Times a request had to wait for a token.")
    connections_held: int = Field(description="Connection slots held by workers now.")
    circuit: dict[str, Any] | None = Field(
        description="The latest circuit breaker state a worker reported: `state` (closed, "
        "open, half_open), `failures`, `retry_in`."
    )
    backlog: int = Field(description="URLs waiting for this host, across crawls.")
    oldest_waiting: str | None = Field(description="Since when the oldest has waited.")
    updated_at: str | None = Field(description="Last change.")


class HostList(_Model):
    """Every host crawls have touched, most recently active first."""

    hosts: list[Host] = Field(description="The hosts.")
