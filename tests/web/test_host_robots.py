"""The robots.txt rules a worker read, kept for the Hosts page, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from scrapeyard.queue import hosts
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.resources import Resources

RULES = b"User-agent: *\nDisallow: /private/\nSitemap: http://example.com/sitemap.xml\n"


@pytest.fixture
async def site() -> AsyncIterator[tuple[str, list[tuple[int, bytes]]]]:
    """A loopback site whose robots.txt answers are given by the test, in order."""
    answers: list[tuple[int, bytes]] = []

    async def robots_txt(request: web.Request) -> web.Response:
        status, body = answers.pop(0)
        return web.Response(status=status, body=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/robots.txt", robots_txt)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", answers
    await runner.cleanup()


async def test_the_rules_a_worker_reads_are_kept_and_replaced(
    store: JobStore, site: tuple[str, list[tuple[int, bytes]]]
) -> None:
    base, answers = site
    host = base.split("://")[1]
    answers.extend([(200, RULES), (404, b"gone")])
    first = Resources(store, worker_id="w1", allowed_networks=["127.0.0.0/8"])
    try:
        assert not await first.robots.can_fetch(f"{base}/private/a")
    finally:
        await first.close()
    [kept] = (await hosts.robots_for(store.db, [host, "other.example"]))[host]
    assert (kept.origin, kept.status, kept.reason) == (base, "parsed", "HTTP 200")
    assert kept.body == RULES.decode()
    assert kept.sitemaps == ["http://example.com/sitemap.xml"]

    # The file goes away (404): another worker reading it now may fetch everything,
    # and the copy says so.
    second = Resources(store, worker_id="w2", allowed_networks=["127.0.0.0/8"])
    try:
        assert await second.robots.can_fetch(f"{base}/private/a")
    finally:
        await second.close()
    [kept] = (await hosts.robots_for(store.db, [host]))[host]
    assert (kept.status, kept.reason, kept.body) == ("allow_all", "HTTP 404", None)
    assert await hosts.robots_for(store.db, []) == {}
