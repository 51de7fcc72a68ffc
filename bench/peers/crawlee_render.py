"""Crawlee for Python's PlaywrightCrawler on the rendered benchmark site.

    python crawlee_render.py ORIGIN/p/0.html --out out.jsonl --concurrency 4 \\
        --max-pages 500 --executable /usr/bin/chromium

Runs in ``bench/.venv-crawlee`` (``pip install 'crawlee[playwright]'``), with the
system's Chromium through ``browser_launch_options`` (no browser is downloaded). Crawlee's
defaults otherwise: one shared browser context, its fingerprints, browsers retired after
100 pages. Each page waits for ``h1.title`` (the content its script draws), then the
title and price are written as one JSON line and the page's links enqueued (same host).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from datetime import timedelta

from crawlee import ConcurrencySettings
from crawlee.crawlers import PlaywrightCrawler, PlaywrightCrawlingContext


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("start")
    parser.add_argument("--out", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-pages", type=int, default=500)
    parser.add_argument("--executable", default="/usr/bin/chromium")
    args = parser.parse_args()
    logging.getLogger("crawlee").setLevel(logging.WARNING)
    out = open(args.out, "w")  # noqa: SIM115 (closed below, after the crawl)
    crawler = PlaywrightCrawler(
        browser_type="chromium",
        headless=True,
        # As Playwright launches it by default (and scrapeyard does): no sandbox as root.
        browser_launch_options={"executable_path": args.executable, "chromium_sandbox": False},
        concurrency_settings=ConcurrencySettings(
            min_concurrency=args.concurrency,
            desired_concurrency=args.concurrency,
            max_concurrency=args.concurrency,
        ),
        max_requests_per_crawl=args.max_pages,
        request_handler_timeout=timedelta(seconds=30),
        configure_logging=False,
    )

    @crawler.router.default_handler
    async def handle(context: PlaywrightCrawlingContext) -> None:
        page = context.page
        await page.wait_for_selector("h1.title", timeout=30_000)
        title = await page.inner_text("h1.title")
        price = await page.inner_text(".price")
        out.write(json.dumps({"url": context.request.url, "title": title, "price": price}) + "\n")
        await context.enqueue_links()

    await crawler.run([args.start])
    out.close()


if __name__ == "__main__":
    asyncio.run(main())
