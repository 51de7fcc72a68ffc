"""The Scrapy peer: a stock CrawlSpider with the settings a user would pick for speed.

    .venv-peers/bin/python scrapy_crawl.py http://127.0.0.1:PORT/ --out pages.jsonl \\
        --select title=h1.product-title::text --select price=... --select sku=...

It follows every link on the start URL's host (LinkExtractor), obeys robots.txt, runs 64
requests at once with no delay and no AutoThrottle, and writes one JSON line per page:
``url``, ``status`` and the selected fields. Like scrapeyard, it drops ``utm_*``
parameters from links before following them (Scrapy's request fingerprint already
ignores fragments) and lets the dupe filter see the start URL, so every crawler in the
benchmark fetches the same set of pages, each once.
Runs in the peers' virtualenv; imports nothing from the project.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.crawler import CrawlerProcess
from scrapy.http import Request, Response
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


def strip_tracking(href: str) -> str:
    """``href`` without ``utm_*`` query parameters."""
    if "utm_" not in href:
        return href
    parts = urlsplit(href)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("utm_")
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


class BenchSpider(CrawlSpider):
    name = "bench"

    def __init__(self, start_url: str, selectors: dict[str, str], **kwargs: Any) -> None:
        parts = urlsplit(start_url)
        self.start_urls = [start_url]
        self.allowed_domains = [parts.hostname or ""]
        self.selectors = selectors
        self.rules = (
            Rule(
                # LinkExtractor compares domains with the URL's netloc, port included.
                LinkExtractor(allow_domains=[parts.netloc], process_value=strip_tracking),
                callback="parse_page",
                follow=True,
            ),
        )
        super().__init__(**kwargs)

    async def start(self) -> AsyncIterator[Request]:
        # Scrapy's default start request bypasses the dupe filter (dont_filter=True), so
        # the home page would be fetched again through the links to "/" on every page.
        for url in self.start_urls:
            yield Request(url)

    def parse_start_url(self, response: Response, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterator[dict[str, Any]]:
        record: dict[str, Any] = {"url": response.url, "status": response.status}
        for name, css in self.selectors.items():
            value = response.css(css).get()
            record[name] = value.strip() if value is not None else None
        yield record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start_url")
    parser.add_argument("--out", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--select", action="append", default=[], metavar="NAME=CSS")
    args = parser.parse_args()
    selectors = dict(item.split("=", 1) for item in args.select)
    process = CrawlerProcess(
        settings={
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": args.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "HTTPCACHE_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "USER_AGENT": "scrapeyard-bench-peer (Scrapy)",
            "FEEDS": {args.out: {"format": "jsonlines", "encoding": "utf8", "overwrite": True}},
        }
    )
    process.crawl(BenchSpider, start_url=args.start_url, selectors=selectors)
    process.start()


if __name__ == "__main__":
    main()
