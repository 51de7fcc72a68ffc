"""The robots.txt rules a worker read, kept for the Hosts page, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from aiohttp import web

from scrapeyard import config
from scrapeyard.queue import database, hosts, keys
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import hosts as hosts_table
from scrapeyard.worker.resources import Resources
from tests.api import live
from tests.web.conftest import run, session_cookie

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


def test_the_hosts_page_shows_the_rules_in_force(settings: config.Settings) -> None:
    secret = run(_a_host_with_rules(settings.database_url))
    with live.live_server(settings) as served, httpx.Client(base_url=served.url) as client:
        page = client.get("/hosts", headers={"Cookie": session_cookie(client, secret)})

    assert page.status_code == 200
    rules = page.text[page.text.index('id="robots"') :]
    assert "http://shop.test/robots.txt" in rules
    assert "rules apply" in rules
    assert "Disallow: /private/" in rules
    assert "1 sitemap" in rules
    assert "http://gone.test/robots.txt" in rules
    assert "no file: all allowed" in rules


async def _a_host_with_rules(database_url: str) -> str:
    db = database.open_database(database_url, pool_size=1)
    try:
        now = datetime.now(UTC)
        row = {"tokens": 1.0, "rate": 1.0, "burst": 1, "refilled_at": now, "throttled": 0}
        async with db.write() as conn:
            await conn.execute(
                sa.insert(hosts_table),
                [{**row, "host": name, "updated_at": now} for name in ("shop.test", "gone.test")],
            )
        await hosts.record_robots(
            db,
            "http://shop.test",
            status="parsed",
            reason="HTTP 200",
            body=RULES.decode(),
            sitemaps=["http://example.com/sitemap.xml"],
        )
        await hosts.record_robots(
            db, "http://gone.test", status="allow_all", reason="HTTP 404", body=None, sitemaps=[]
        )
        return (await keys.KeyStore(db).create("viewer", keys.Scope.READ)).secret
    finally:
        await db.dispose()
