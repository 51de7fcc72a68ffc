"""``scrape`` fetches exactly its URLs; ``map`` lists a site's URLs without storing pages."""

from __future__ import annotations

import socket

from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from tests.crawl import harness
from tests.sites import generated, hostile, server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_scrape_stores_one_record_per_url_failures_included(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(generated.generated_site())
    elsewhere = sites.serve(hostile.page_app(), host="127.0.0.2")
    refused = f"http://127.0.0.1:{_closed_port()}/"
    urls = [
        site.url("/about"),
        site.url("/about?utm_source=newsletter"),  # the same page
        site.url("/missing"),
        site.url("/files/data.csv"),
        site.url("/old"),
        site.url("/private/secret"),
        elsewhere.url("/x"),
        refused,
    ]

    job = await harness.run_job(store, "scrape", {"urls": urls, "retries": 1})

    assert job.status is JobStatus.SUCCEEDED, job.error
    # No links followed, no sitemap read, nothing disallowed fetched.
    assert site.log.counts() == {
        "/robots.txt": 1,
        "/about": 1,
        "/missing": 1,
        "/files/data.csv": 1,
        "/old": 1,
        "/moved": 1,
        "/new": 1,
    }
    assert len(elsewhere.log) == 0
    records = {r["url"]: r for r in await harness.records(store, job.id)}
    assert set(records) == set(urls) - {site.url("/about?utm_source=newsletter")}
    assert records[site.url("/about")]["data"]["metadata"]["title"] == "About"
    assert records[site.url("/old")]["final_url"] == site.url("/new")
    assert records[site.url("/files/data.csv")]["ok"]
    assert records[site.url("/missing")]["status"] == 404
    errors = {url: (r["error"] or {}).get("type") for url, r in records.items()}
    assert errors[site.url("/private/secret")] == "RobotsDisallowed"
    assert errors[elsewhere.url("/x")] == "BlockedAddress"
    # Its robots.txt cannot be fetched either: disallowed until it can (RFC 9309).
    assert errors[refused] == "RobotsDisallowed"
    assert "unreachable" in records[refused]["error"]["message"]
    assert job.result["pages"] == 3
    assert job.result["failed"] == 2
    assert job.result["skipped"]["robots"] == 2


async def test_a_map_returns_the_sites_urls_and_stores_no_content(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(generated.generated_site(gates=True))

    job = await harness.run_job(
        store, "map", {"url": site.url("/"), "rate_limit": harness.UNLIMITED}
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    found = [harness.relative(url, site.origin) for url in job.result["urls"]]
    assert len(found) == len(set(found)) == job.result["count"]
    # Every URL admitted to the frontier: 404s and disallowed URLs included, the
    # redirecting URL (/old) rather than where it led (/new).
    assert set(found) == {
        "/",
        "/about",
        "/products/",
        "/products/?a=1&b=2",
        "/products/item-1",
        "/products/item-2",
        "/blog/",
        "/blog/post-1",
        "/old",
        "/go-about",
        "/missing",
        "/files/report.pdf",
        "/files/data.csv",
        "/img/logo.png",
        "/private/secret",
        "/private/listed",
        "/caf%C3%A9",
        *(f"/deep/{n}" for n in range(1, generated.DEEPEST + 1)),
        "/from-sitemap",
        "/from-sitemap-gz",
    }
    assert found[0] == "/"  # shallowest first
    records = await harness.records(store, job.id)
    assert records and all(r["data"] is None for r in records)
    assert not any(path.startswith("/private/") for path in site.log.counts())
