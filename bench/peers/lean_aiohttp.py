"""The ceiling: a lean in-memory crawler in one process (aiohttp + selectolax + protego).

    .venv-peers/bin/python lean_aiohttp.py http://127.0.0.1:PORT/ --out pages.jsonl \\
        --select title=h1.product-title::text --select price=... --select sku=...

No persistence, no politeness beyond robots.txt, no retries: 64 tasks share one
connection pool and an in-memory seen-set, parse each page with selectolax (Lexbor),
extract the same fields as the other crawlers and follow same-origin links with
fragments and ``utm_*`` parameters dropped. It shows how fast Python can crawl the site
on this machine; a real crawler pays for durability on top of this.
Runs in the peers' virtualenv; imports nothing from the project.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
from protego import Protego
from selectolax.lexbor import LexborHTMLParser

USER_AGENT = "scrapeyard-bench-peer (lean)"


def normalise(base: str, href: str) -> str:
    """``href`` made absolute against ``base``, without fragment and ``utm_*`` parameters."""
    url = urljoin(base, href.strip()).partition("#")[0]
    if "utm_" not in url:
        return url
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("utm_")
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


class LeanCrawler:
    def __init__(self, start: str, out: IO[str], selectors: dict[str, str], concurrency: int):
        parts = urlsplit(start)
        self.start = start
        self.prefix = f"{parts.scheme}://{parts.netloc}/"
        self.out = out
        self.fields = [(name, css.removesuffix("::text")) for name, css in selectors.items()]
        self.concurrency = concurrency
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.seen: set[str] = set()
        self.robots: Protego | None = None
        self.disallow_all = False
        self.fetched = self.failed = self.blocked = 0

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.concurrency)
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=60),
            headers={"User-Agent": USER_AGENT},
        ) as session:
            await self.load_robots(session)
            self.discover(self.start)
            workers = [asyncio.create_task(self.work(session)) for _ in range(self.concurrency)]
            await self.queue.join()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def load_robots(self, session: aiohttp.ClientSession) -> None:
        """RFC 9309: a 4xx robots.txt allows everything, a 5xx or no answer nothing."""
        try:
            async with session.get(self.prefix + "robots.txt") as response:
                text = await response.text()
                status = response.status
        except aiohttp.ClientError:
            self.disallow_all = True
            return
        if status >= 500:
            self.disallow_all = True
        elif status < 400:
            self.robots = Protego.parse(text)

    def discover(self, url: str) -> None:
        if url in self.seen:
            return
        self.seen.add(url)
        if self.disallow_all or (self.robots and not self.robots.can_fetch(url, USER_AGENT)):
            self.blocked += 1
            return
        self.queue.put_nowait(url)

    async def work(self, session: aiohttp.ClientSession) -> None:
        while True:
            url = await self.queue.get()
            try:
                await self.fetch(session, url)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.failed += 1
                print(f"lean: {url}: {exc!r}", file=sys.stderr)
            finally:
                self.queue.task_done()

    async def fetch(self, session: aiohttp.ClientSession, url: str) -> None:
        async with session.get(url) as response:
            body = await response.read()
            final = str(response.url)
            status = response.status
            html = "html" in response.headers.get("Content-Type", "")
            charset = response.charset or "utf-8"
        self.fetched += 1
        record: dict[str, Any] = {"url": final, "status": status}
        if status != 200 or not html:
            self.out.write(json.dumps(record) + "\n")
            return
        tree = LexborHTMLParser(body.decode(charset, "replace"))
        for name, css in self.fields:
            node = tree.css_first(css)
            record[name] = node.text(strip=True) if node is not None else None
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        for node in tree.css("a[href]"):
            href = node.attributes.get("href")
            if href:
                link = normalise(final, href)
                if link.startswith(self.prefix):
                    self.discover(link)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start_url")
    parser.add_argument("--out", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--select", action="append", default=[], metavar="NAME=CSS")
    args = parser.parse_args()
    selectors = dict(item.split("=", 1) for item in args.select)
    with open(args.out, "w", encoding="utf-8") as out:
        crawler = LeanCrawler(args.start_url, out, selectors, args.concurrency)
        asyncio.run(crawler.run())
    print(
        f"lean: fetched {crawler.fetched}, failed {crawler.failed}, "
        f"blocked by robots.txt {crawler.blocked}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
