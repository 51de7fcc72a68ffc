"""Rendered crawls: ``auto`` picks the browser only where it is needed; a long rendered
crawl keeps the browser's memory bounded by restarting it."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.resources import Resources
from tests.crawl import harness
from tests.render.conftest import TEST_BROWSER, Sites

CRAWL_PAGES = 200
RESTART_AFTER = 60


async def test_auto_renders_only_the_pages_that_need_it(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    job = await harness.run_job(
        store,
        "crawl",
        {
            "url": sites.site.url("/csr"),
            "render": "auto",
            "rate_limit": harness.UNLIMITED,
            "selectors": {"title": ".title::text"},
            "max_depth": 1,
        },
        shared=shared,
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    records = await harness.records_by_path(store, job.id, sites.site.origin)
    assert set(records) == {"/csr", "/static", "/click"}
    # The client-rendered page went to the browser; its title exists only there.
    assert records["/csr"]["data"]["render"] == "browser"
    assert records["/csr"]["data"]["selectors"]["title"] == "Client title"
    assert records["/csr"]["data"]["render_reason"].startswith("auto:")
    # A page without scripts, and a page whose text is there without them, did not.
    assert records["/static"]["data"]["render"] == "http"
    assert records["/static"]["data"]["selectors"]["title"] == "Static title"
    # /click has scripts and text, but its title selector finds nothing in the HTML.
    assert records["/click"]["data"]["render"] == "browser"


async def test_a_long_rendered_crawl_restarts_its_browser_and_stays_bounded(
    store: JobStore, sites: Sites, tmp_path: Path
) -> None:
    shared = Resources(
        store,
        worker_id=harness.new_worker_id(),
        allowed_networks=harness.LOOPBACK,
        lease=5.0,
        data_dir=tmp_path,
        browser=dataclasses.replace(TEST_BROWSER, restart_after_pages=RESTART_AFTER),
    )
    browsers = shared.browsers
    peak = 0.0

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, browsers.memory_mb())
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    try:
        job = await harness.run_job(
            store,
            "crawl",
            {
                "url": sites.site.url("/p/0"),
                "render": "always",
                "max_pages": CRAWL_PAGES,
                "rate_limit": harness.UNLIMITED,
                "wait_for": "h1",
                "formats": ["metadata"],
            },
            shared=shared,
            timeout=120,
        )
    finally:
        sampler.cancel()
    assert job.status is JobStatus.SUCCEEDED, job.error
    records = await harness.records(store, job.id)
    assert len(records) == CRAWL_PAGES
    assert all(r["ok"] and r["data"]["render"] == "browser" for r in records)
    titles = {r["data"]["metadata"]["title"] for r in records}
    assert len(titles) == CRAWL_PAGES
    # Restarted every RESTART_AFTER pages (a page in flight may push one over).
    assert browsers.launches >= CRAWL_PAGES // RESTART_AFTER
    # Chromium with four pages, measured as PSS: far below what a leak would reach.
    print(f"\nrendered crawl: peak browser PSS {peak:.0f} MiB, {browsers.launches} browsers")
    assert 0 < peak < 1500
