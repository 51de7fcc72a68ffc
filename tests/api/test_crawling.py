"""Crawling through the API end to end: a real ``serve`` process and a local test site."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scrapeyard import errors
from scrapeyard.client import Client
from scrapeyard.queue import keys
from scrapeyard.queue.store import JobStore
from tests.sites import server, tree
from tests.support import processes
from tests.support.waiting import until

PAGES = 30
ROBOTS = "User-agent: *\nDisallow: /p/9\n"  # a leaf: nothing is reachable only through it


@pytest.fixture
def sites() -> Iterator[server.ServerThread]:
    with server.server_thread() as threads:
        yield threads


@pytest.fixture
async def api(
    store: JobStore, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Client, processes.Command]]:
    """A ``serve`` process with one worker process, and a client with an admin key."""
    admin = (await keys.KeyStore(store.db).create("admin", keys.Scope.ADMIN)).secret
    command = processes.Command(
        ["serve", "--port", "0", "--processes", "1", "--concurrency", "4"],
        processes.env(database_url, SCRAPEYARD_ALLOWED_NETWORKS="127.0.0.0/8"),
        tmp_path / "serve.log",
    )

    async def address() -> str | None:
        if command.process.poll() is not None:
            raise AssertionError(f"serve exited early:\n{command.output}")
        found = re.search(r"scrapeyard API on (http://127\.0\.0\.1:\d+)", command.output)
        return found.group(1) if found else None

    try:
        url = await until(address, timeout=60)
        async with Client(url, admin, timeout=60) as client:
            yield client, command
    finally:
        command.signal(signal.SIGTERM)
        assert command.wait(timeout=90) == 0, command.output


async def _records(client: Client, job_id: int, **options: Any) -> list[dict[str, Any]]:
    return [record async for record in client.results(job_id, **options)]


async def test_crawl_follow_page_export_and_inspect(
    api: tuple[Client, processes.Command], sites: server.ServerThread, tmp_path: Path
) -> None:
    client, _ = api
    site = sites.serve(tree.tree_site(PAGES, robots=ROBOTS))
    started = await client.crawl(
        site.url("/"),
        max_pages=100,
        rate_limit={"requests_per_second": 0},
        formats=["metadata", "links"],
        selectors={"title": "h1::text"},
    )
    job_id = started["job"]["id"]
    assert started["status_url"].endswith(f"/v1/jobs/{job_id}")

    done = await client.wait(job_id, timeout=90)
    assert done["status"] == "succeeded", done
    stats = done["stats"]
    assert stats["fetched"] == PAGES - 1 and stats["skipped_robots"] == 1 and stats["open"] == 0
    assert done["progress"]["fetched"] == PAGES - 1

    pages = await _records(client, job_id, page_size=7)
    assert sorted(record["url"] for record in pages) == sorted(
        site.url(path) for path in tree.paths(PAGES) if path != "/p/9"
    )
    home = next(record for record in pages if record["url"] == site.url("/"))
    assert home["selectors"] == {"title": "Page 0"} and home["metadata"]["title"] == "Page 0"
    assert site.url("/p/1") in home["links"]
    failed = await _records(client, job_id, errors_only=True)
    assert [(r["url"], r["error"]["type"]) for r in failed] == [
        (site.url("/p/9"), "RobotsDisallowed")
    ]
    assert site.log.counts()["/p/9"] == 0

    jsonl = tmp_path / "out.jsonl"
    assert await client.export(job_id, str(jsonl)) > 0
    exported = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sorted(r["url"] for r in exported) == sorted(r["url"] for r in pages)
    table = tmp_path / "out.csv"
    await client.export(job_id, str(table), format="csv", include="all")
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert len(rows) == PAGES
    assert {row["title"] for row in rows if row["ok"] == "true"} >= {"Page 0", "Page 1"}
    assert "metadata.title" in rows[0]

    [host] = [h for h in await client.hosts() if h["host"] == f"127.0.0.1:{site.port}"]
    assert host["backlog"] == 0


async def test_scrape_and_map_answer_when_done(
    api: tuple[Client, processes.Command], sites: server.ServerThread
) -> None:
    client, _ = api
    site = sites.serve(tree.tree_site(PAGES))
    scraped = await client.scrape(site.url("/p/2"), formats=["markdown", "metadata"], wait=60)
    assert scraped["job"]["status"] == "succeeded"
    record = scraped["record"]
    assert record["status"] == 200 and "# Page 2" in record["markdown"]
    assert record["metadata"]["title"] == "Page 2"

    mapped = await client.map(site.url("/"), wait=60)
    assert set(mapped["urls"]) == {site.url(path) for path in tree.paths(PAGES)}

    batch = await client.batch_scrape([site.url("/p/1"), site.url("/nope")], formats=["text"])
    done = await client.wait(batch["job"]["id"], timeout=60)
    assert done["status"] == "succeeded"
    by_url = {r["url"]: r for r in await _records(client, done["id"])}
    assert "Page 1" in by_url[site.url("/p/1")]["text"]
    [missing] = await _records(client, done["id"], errors_only=True)
    assert missing["status"] == 404 and missing["error"]["message"] == "HTTP 404"


async def test_cancel_a_running_crawl_keeps_what_it_stored(
    api: tuple[Client, processes.Command], sites: server.ServerThread
) -> None:
    client, _ = api
    site = sites.serve(tree.tree_site(200, delay=0.05))
    started = await client.crawl(
        site.url("/"), max_pages=200, rate_limit={"requests_per_second": 20, "burst": 1}
    )
    job_id = started["job"]["id"]

    async def fetched_some() -> bool:
        job = await client.get_job(job_id)
        return bool(job["stats"] and job["stats"]["fetched"] >= 5)

    await until(fetched_some, timeout=60)
    await client.cancel(job_id)
    done = await client.wait(job_id, timeout=30)
    assert done["status"] == "cancelled"
    kept = await _records(client, job_id)
    assert 5 <= len(kept) < 200
    served = sum(site.log.counts().values())
    assert served < 150, "the crawl went on long after it was cancelled"


async def test_bad_crawl_options_name_the_field(api: tuple[Client, processes.Command]) -> None:
    client, _ = api
    with pytest.raises(errors.InvalidInput) as caught:
        await client.crawl("http://127.0.0.1/", include_paths=["re:("])
    assert "include_paths[0]" in str(caught.value)
    with pytest.raises(errors.InvalidInput) as caught:
        await client.crawl("ftp://example.com/")
    assert "url" in str(caught.value)
    with pytest.raises(errors.InvalidInput) as caught:
        await client.scrape("http://127.0.0.1/", selectors={"x": "//*[("})
    assert "selectors.x" in str(caught.value)


async def test_metrics_count_pages_bytes_and_hosts(
    api: tuple[Client, processes.Command], sites: server.ServerThread
) -> None:
    client, _ = api
    site = sites.serve(tree.tree_site(10))
    started = await client.crawl(site.url("/"), rate_limit={"requests_per_second": 0})
    await client.wait(started["job"]["id"], timeout=60)
    text = (await client._http.get("/metrics")).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    [two_xx] = [s.value for s in families["scrapeyard_pages_fetched"].samples]
    assert two_xx == 10
    [downloaded] = families["scrapeyard_bytes_downloaded"].samples
    assert downloaded.value > 10 * 500
    hosts = {s.labels["host"] for s in families["scrapeyard_host_throttle_waits"].samples}
    assert f"127.0.0.1:{site.port}" in hosts
