"""The Hosts page's backlog (``queue.hosts.overview``), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from scrapeyard.queue import hosts
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import crawl_frontier
from scrapeyard.queue.tables import hosts as hosts_table


async def test_the_backlog_counts_only_the_queued_urls_of_unfinished_crawls(
    store: JobStore,
) -> None:
    running, cancelled, finished = await store.enqueue_many([JobSpec("noop")] * 3)
    [claimed] = await store.claim("w", ["default"], limit=1)
    assert claimed.id == running
    await store.cancel(cancelled)
    [done] = await store.claim("w", ["default"], limit=1)
    await store.complete(done, {"ok": True})
    now = datetime.now(UTC)
    async with store.db.write() as conn:
        await conn.execute(
            sa.insert(hosts_table),
            [_host("live.test", now), _host("dead.test", now)],
        )
        await conn.execute(
            sa.insert(crawl_frontier),
            [
                _url(running, "live.test", "a", "queued", now - timedelta(minutes=1)),
                _url(running, "live.test", "b", "queued", now),
                _url(running, "live.test", "c", "done", now),
                # Left behind by crawls that will never fetch them.
                _url(cancelled, "live.test", "d", "queued", now - timedelta(hours=1)),
                _url(finished, "live.test", "e", "queued", now - timedelta(hours=2)),
                _url(cancelled, "dead.test", "f", "queued", now),
            ],
        )

    found = {info.host: info for info in await hosts.overview(store.db)}
    assert found["live.test"].backlog == 2
    oldest = found["live.test"].oldest_waiting
    assert oldest is not None
    assert abs((oldest - (now - timedelta(minutes=1))).total_seconds()) < 1
    assert (found["dead.test"].backlog, found["dead.test"].oldest_waiting) == (0, None)


def _host(name: str, at: datetime) -> dict[str, object]:
    return {
        "host": name,
        "tokens": 1.0,
        "rate": 1.0,
        "burst": 1,
        "refilled_at": at,
        "throttled": 0,
        "updated_at": at,
    }


def _url(job_id: int, host: str, path: str, state: str, at: datetime) -> dict[str, object]:
    url = f"https://{host}/{path}"
    return {
        "job_id": job_id,
        "url_hash": hashlib.md5(url.encode()).hexdigest(),
        "url": url,
        "host": host,
        "depth": 1,
        "source": "link",
        "state": state,
        "attempts": 0,
        "updated_at": at,
    }
