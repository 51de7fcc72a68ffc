"""A rendered page is held to the HTTP path's rules: the SSRF guard on every request,
robots.txt on every navigation, and its own timeout; a bad page fails alone."""

from __future__ import annotations

import time

from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.resources import Resources
from tests.crawl import harness
from tests.render.conftest import Sites


async def test_a_page_cannot_make_the_browser_reach_private_addresses_or_files(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    browsers = shared.browsers
    job = await harness.run_job(
        store,
        "scrape",
        {
            "url": sites.site.url("/hostile"),
            "render": "always",
            "rate_limit": harness.UNLIMITED,
            "wait_for": {"selector": "#ok", "network_idle": True},
            "formats": ["html"],
        },
        shared=shared,
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    [record] = await harness.records(store, job.id)
    assert record["ok"], record["error"]
    assert 'id="ok"' in record["data"]["html"]
    refused = {item["url"]: item["type"] for item in record["data"]["refused_requests"]}
    assert refused["http://169.254.169.254/latest/meta-data/"] == "BlockedAddress"
    assert refused[sites.canary.url("/fetch")] == "BlockedAddress"
    # file: is refused (by Chromium itself from an http page, else by the guard).
    assert refused.get("file:///etc/passwd", "UnsupportedScheme") == "UnsupportedScheme"
    assert 'class="leak"' not in record["data"]["html"]
    # The iframe's redirect was followed hop by hop, and robots.txt refused the target.
    assert refused[sites.site.url("/private/frame")] == "RobotsDisallowed"
    assert "/private/frame" not in sites.site.log.counts()
    # Nothing reached the canary: not the fetch, the image, nor the WebSocket.
    assert len(sites.canary.log) == 0
    # Nor did the page's requests go around interception (the browser's own background
    # traffic, to update servers and the like, does try, and finds a dead proxy).
    assert not [line for line in browsers.escaped if "127.0.0" in line or "169.254" in line]


async def test_robots_txt_is_asked_about_every_redirect_of_a_navigation(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    job = await harness.run_job(
        store,
        "scrape",
        {"url": sites.site.url("/redirect"), "render": "always", "rate_limit": harness.UNLIMITED},
        shared=shared,
    )
    [record] = await harness.records(store, job.id)
    assert record["error"]["type"] == "RobotsDisallowed", record
    assert "/private/page" not in sites.site.log.counts()


async def test_a_looping_or_crashing_page_fails_in_time_and_the_others_render(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    browsers = shared.browsers
    started = time.monotonic()
    job = await harness.run_job(
        store,
        "scrape",
        {
            "urls": [sites.site.url(p) for p in ("/loop", "/hog", "/csr", "/static")],
            "render": "always",
            "rate_limit": harness.UNLIMITED,
            "timeout": 3,
            "retries": 1,
            "wait_for": ".title",
        },
        shared=shared,
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert time.monotonic() - started < 20
    records = await harness.records_by_path(store, job.id, sites.site.origin)
    assert records["/loop"]["error"]["type"] == "RenderTimeout"
    assert records["/hog"]["error"]["type"] == "RendererCrashed"
    assert records["/csr"]["ok"] and records["/static"]["ok"]
    # The same browser went on: only the bad pages were lost.
    assert browsers.launches == 1
