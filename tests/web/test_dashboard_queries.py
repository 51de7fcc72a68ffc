"""The dashboard's own reads (``queue.dashboard``), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from scrapeyard import errors
from scrapeyard.queue import dashboard, keys
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.queries import JobFilter
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import crawl_pages, jobs


async def test_throughput_counts_finished_jobs_and_stored_pages_per_minute(
    store: JobStore,
) -> None:
    crawl = await store.enqueue(JobSpec("noop", {"sleep": 0}))
    other = await store.enqueue(JobSpec("noop"))
    cancelled = await store.enqueue(JobSpec("noop"))
    claimed = {job.id: job for job in await store.claim("w", ["default"], limit=2)}
    await store.complete(claimed[crawl.id], {"ok": True})
    await store.fail(claimed[other.id], {"type": "E", "message": "no"}, permanent=True)
    await store.cancel(cancelled.id)
    now = datetime.now(UTC)
    async with store.db.write() as conn:
        # Pages stored now, ten minutes ago, and two hours ago (outside the window).
        await conn.execute(
            sa.insert(crawl_pages),
            [
                _page(crawl.id, "a", True, now),
                _page(crawl.id, "b", True, now),
                _page(crawl.id, "c", False, now),
                _page(crawl.id, "d", True, now - timedelta(minutes=10, seconds=5)),
                _page(crawl.id, "e", True, now - timedelta(hours=2)),
            ],
        )
        # A finished job two hours ago counts nowhere.
        await conn.execute(
            sa.update(jobs)
            .where(jobs.c.id == cancelled.id)
            .values(finished_at=now - timedelta(hours=2))
        )

    figures = await dashboard.throughput(store.db, minutes=60)
    assert figures.minutes == 60
    assert sum(figures.jobs["succeeded"]) == 1 and figures.jobs["succeeded"][-1] == 1
    assert sum(figures.jobs["failed"]) == 1
    assert sum(figures.jobs["cancelled"]) == 0
    assert figures.pages[-1] == 2 and figures.page_errors[-1] == 1
    assert figures.pages[-11] == 1
    assert sum(figures.pages) == 3


def _page(job_id: int, name: str, ok: bool, at: datetime) -> dict[str, object]:
    return {
        "job_id": job_id,
        "url_hash": hashlib.md5(name.encode()).hexdigest(),
        "url": f"https://example.com/{name}",
        "depth": 0,
        "ok": ok,
        "status": 200 if ok else 500,
        "bytes": 10,
        "elapsed": 0.1,
        "fetched_at": at,
    }


async def test_jobs_are_found_by_any_of_their_urls(store: JobStore) -> None:
    blog = await store.enqueue(JobSpec("noop", {"url": "https://Example.com/Blog/1"}))
    many = await store.enqueue(
        JobSpec("noop", {"urls": ["https://a.test/x", "https://b.test/100%_off"]})
    )
    await store.enqueue(JobSpec("noop", {"note": "https://b.test/ is not a URL field"}))

    async def found(text: str, **where: Any) -> list[int]:
        page = await dashboard.search_jobs(store.db, JobFilter(**where), url_contains=text)
        return [job.id for job in page.jobs]

    assert await found("example.com/blog") == [blog.id]
    assert await found("b.test") == [many.id]
    assert await found("100%_") == [many.id]
    assert await found("%") == [many.id]
    assert await found("_") == [many.id]
    assert await found("b.test", status=[JobStatus.RUNNING]) == []
    assert await found("https://", queue="default") == [many.id, blog.id]


async def test_search_pages_newest_first_and_refuses_bad_cursors(store: JobStore) -> None:
    ids = await store.enqueue_many(
        [JobSpec("noop", {"url": f"https://example.com/{i}"}) for i in range(5)]
    )
    seen: list[int] = []
    cursor = None
    while True:
        page = await dashboard.search_jobs(
            store.db, JobFilter(), url_contains="example", limit=2, cursor=cursor
        )
        seen += [job.id for job in page.jobs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    with pytest.raises(errors.InvalidInput):
        await dashboard.search_jobs(store.db, JobFilter(), cursor="forged")


async def test_running_jobs_are_listed_by_the_worker_holding_them(store: JobStore) -> None:
    first, second, _waiting = await store.enqueue_many([JobSpec("noop")] * 3)
    await store.claim("worker-a", ["default"], limit=1)
    await store.claim("worker-b", ["default"], limit=1)
    assert await dashboard.running_by_worker(store.db) == {
        "worker-a": [first],
        "worker-b": [second],
    }


async def test_a_keys_digest_is_what_the_key_store_keeps(store: JobStore) -> None:
    made = await keys.KeyStore(store.db).create("someone", keys.Scope.READ)
    assert await dashboard.key_digest(store.db, made.key.id) == keys.digest(made.secret)
    assert await dashboard.key_digest(store.db, made.key.id + 1) is None
