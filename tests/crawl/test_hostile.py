"""Hostile pages end as recorded per-page errors within their limits, never as a hung
or crashed worker; retries, ``Retry-After`` and the circuit breaker, seen from the server.
"""

from __future__ import annotations

import resource
import time

from aiohttp import web

from scrapeyard.crawl import circuits
from scrapeyard.crawl.options import CrawlDefaults
from scrapeyard.queue import hosts
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from tests.crawl import harness
from tests.sites import hostile, server

MAX_BODY = 1024 * 1024
TIMEOUT = 1.5


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_every_trap_ends_as_a_recorded_error_within_its_limits(
    store: JobStore, sites: server.ServerThread
) -> None:
    elsewhere = sites.serve(hostile.page_app(), host="127.0.0.2")
    site = sites.serve(hostile.hostile_site(elsewhere.origin))
    shared = harness.resources(store, defaults=CrawlDefaults(max_body_bytes=MAX_BODY))
    peak_before = _peak_rss_mb()
    started = time.monotonic()

    job = await harness.run_job(
        store,
        "crawl",
        {
            "url": site.url("/"),
            "timeout": TIMEOUT,
            "retries": 1,
            "rate_limit": harness.UNLIMITED,
            "formats": ["metadata", "text", "markdown", "links"],
        },
        shared=shared,
        timeout=30,
    )

    elapsed = time.monotonic() - started
    assert job.status is JobStatus.SUCCEEDED, job.error
    # Every page ran concurrently and none outlived its own limit by much.
    assert elapsed < 4 * TIMEOUT + 3, elapsed
    # The bomb was inflated no further than the body limit.
    assert _peak_rss_mb() - peak_before < 200

    records = await harness.records_by_path(store, job.id, site.origin)
    assert set(records) == {"/", *hostile.TRAPS, *hostile.ODD_PAGES}
    for path, error_type in hostile.TRAPS.items():
        record = records[path]
        assert not record["ok"] and record["data"] is None, path
        assert record["error"]["type"] == error_type, (path, record["error"])
        assert record["elapsed"] <= TIMEOUT + 0.5, (path, record["elapsed"])
    assert "169.254.169.254" in records["/to-metadata"]["error"]["message"]
    assert "127.0.0.2" in records["/to-other-loopback"]["error"]["message"]
    # Refused before connecting: the other loopback server heard nothing.
    assert len(elsewhere.log) == 0
    requested = site.log.counts()
    assert requested["/loop/a"] == 1 and requested["/loop/b"] == 1
    assert all(requested[f"/chain/{n}"] == 1 for n in range(2, 13))
    assert "/chain/1" not in requested  # the 11th redirect is not followed
    for path in ("/bomb", "/endless", "/drip", "/stall"):
        assert requested[path] == 1, path  # timeouts are not retried with retries: 1

    # Odd markup and encodings are stored and extracted all the same.
    for path, (title, _, _) in hostile.ODD_PAGES.items():
        record = records[path]
        assert record["ok"] and record["status"] == 200, (path, record["error"], record["bytes"])
        data = record["data"]
        assert set(data) == {"metadata", "text", "markdown", "links"}, path
        assert data["metadata"]["title"] == title, path
    assert "bottom" in records["/nested"]["data"]["text"]
    assert "こんにちは" in records["/shift-jis"]["data"]["text"]
    assert records["/broken"]["data"]["links"] == [site.url("/broken")]

    counters = await harness.counters(store, job.id)
    assert counters["failed"] == len(hostile.TRAPS)
    assert counters["fetched"] == 1 + len(hostile.ODD_PAGES)


def _robots_app(failures: int) -> web.Application:
    """robots.txt answers 500 ``failures`` times, then disallows ``/private``."""
    answered = {"robots": 0}

    async def robots_txt(request: web.Request) -> web.StreamResponse:
        answered["robots"] += 1
        if answered["robots"] <= failures:
            return web.Response(status=500, text="oops")
        return web.Response(text="User-agent: *\nDisallow: /private\n")

    async def handle(request: web.Request) -> web.StreamResponse:
        body = '<a href="/page">page</a> <a href="/private">private</a>'
        return web.Response(text=f"<html><body>{body}</body></html>", content_type="text/html")

    app = server.logged_app()
    app.router.add_get("/robots.txt", robots_txt)
    app.router.add_get("/", handle)
    app.router.add_get("/page", handle)
    app.router.add_get("/private", handle)
    return app


async def test_a_robots_txt_answering_500_disallows_everything_until_it_recovers(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(_robots_app(failures=2))
    payload = {"url": site.url("/"), "use_sitemap": False, "rate_limit": harness.UNLIMITED}
    # The failure is remembered briefly, so the test sees the retry without waiting long.
    shared = harness.resources(store, robots_failure_ttl=0.3)

    job = await harness.run_job(store, "crawl", payload, shared=shared)

    assert job.status is JobStatus.SUCCEEDED, job.error
    # Nothing but robots.txt was asked while it failed; then its rules applied.
    assert site.log.counts() == {"/robots.txt": 3, "/": 1, "/page": 1}
    first_page = site.log.times(lambda path: path == "/")[0]
    last_robots = site.log.times(lambda path: path == "/robots.txt")[-1]
    assert first_page >= last_robots
    records = await harness.records_by_path(store, job.id, site.origin)
    assert records["/"]["ok"] and records["/page"]["ok"]
    assert records["/private"]["error"]["type"] == "RobotsDisallowed"
    assert job.result["pages"] == 2 and job.result["skipped"]["robots"] == 1


async def test_a_robots_txt_that_never_recovers_keeps_the_site_unfetched(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(_robots_app(failures=1000))
    payload = {
        "url": site.url("/"),
        "use_sitemap": False,
        "rate_limit": harness.UNLIMITED,
        "retries": 3,
    }
    shared = harness.resources(store, robots_failure_ttl=0.2)

    job = await harness.run_job(store, "crawl", payload, shared=shared)

    assert job.status is JobStatus.SUCCEEDED, job.error
    assert site.log.counts() == {"/robots.txt": 3}
    (record,) = await harness.records(store, job.id)
    assert record["url"] == site.url("/") and record["status"] is None
    assert record["error"]["type"] == "RobotsDisallowed"
    assert "HTTP 500" in record["error"]["message"]
    assert job.result["skipped"]["robots"] == 1 and job.result["pages"] == 0


def _flaky_app() -> web.Application:
    """``/limited`` answers 429 (Retry-After: 1) the first time, then 200; ``/down/*``
    always answers 503."""
    seen: set[str] = set()

    async def limited(request: web.Request) -> web.StreamResponse:
        if request.path not in seen:
            seen.add(request.path)
            return web.Response(status=429, text="slow down", headers={"Retry-After": "1"})
        return web.Response(text="<title>finally</title>", content_type="text/html")

    async def down(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, text="down for maintenance")

    app = server.logged_app()
    app.router.add_get("/limited", limited)
    app.router.add_get("/down/{n}", down)
    return app


async def test_429_is_retried_after_retry_after_and_503_until_attempts_run_out(
    store: JobStore, sites: server.ServerThread
) -> None:
    limited = sites.serve(_flaky_app())
    down = sites.serve(_flaky_app())
    shared = harness.resources(store)
    # A breaker that opens soon and cools down fast, so the test sees it work in time.
    shared.circuits = circuits.CircuitBreaker(failure_threshold=3, cool_down=0.5)
    broken = [down.url(f"/down/{n}") for n in range(2)]

    job = await harness.run_job(
        store,
        "scrape",
        {"urls": [limited.url("/limited"), *broken], "formats": ["metadata"], "retries": 3},
        shared=shared,
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    times = limited.log.times(lambda path: path == "/limited")
    assert len(times) == 2
    assert times[1] - times[0] >= 0.95, "Retry-After was not honoured"
    records = {r["url"]: r for r in await harness.records(store, job.id)}
    assert records[limited.url("/limited")]["status"] == 200
    assert records[limited.url("/limited")]["data"]["metadata"]["title"] == "finally"

    # Three attempts each (the breaker defers requests without using attempts up).
    assert down.log.counts() == {f"/down/{n}": 3 for n in range(2)} | {"/robots.txt": 1}
    for url in broken:
        assert records[url]["status"] == 503 and not records[url]["ok"]
        assert records[url]["error"] == {"type": "HTTPError", "message": "HTTP 503"}
    assert job.result["failed"] == 2 and job.result["pages"] == 1

    # The open circuit is visible in the job's stats and in the host's state.
    host = f"127.0.0.1:{down.port}"
    (circuit,) = (await harness.counters(store, job.id))["stats"]["circuits"]
    assert circuit["host"] == host
    assert circuit["failures"] == 6 and circuit["state"] in ("open", "half_open")
    (info,) = [h for h in await hosts.overview(store.db) if h.host == host]
    assert info.circuit is not None and info.circuit["failures"] == 6
