"""Crawls that are stopped, killed, handed back and shared, run by real workers.

The sites answer slowly enough (a few milliseconds a page) that a signal lands while a
crawl is under way. Worker subprocesses (``python -m scrapeyard worker``) get
``SCRAPEYARD_ALLOWED_NETWORKS`` so that their SSRF guard lets them reach the test site.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import crawl_frontier, jobs
from scrapeyard.queue.workers import WorkerRegistry, WorkerState
from tests.crawl import harness
from tests.sites import server, tree
from tests.support import processes
from tests.support.waiting import until

LEASE = float(processes.FAST_ENV["SCRAPEYARD_QUEUE__LEASE_DURATION"])


def _env(database_url: str) -> dict[str, str]:
    return processes.env(database_url, SCRAPEYARD_ALLOWED_NETWORKS=",".join(harness.LOOPBACK))


def _crawl(site: server.Served, **options: Any) -> JobSpec:
    payload = {
        "url": site.url("/"),
        "rate_limit": harness.UNLIMITED,
        "concurrency": 4,
        "use_sitemap": False,
        **options,
    }
    return JobSpec("crawl", payload)


def _pages_requested(log: server.RequestLog, **kwargs: Any) -> collections.Counter[str]:
    counts = log.counts(**kwargs)
    counts.pop("/robots.txt", None)
    return counts


async def _paths_stored(store: JobStore, job_id: int, origin: str) -> list[str]:
    return [harness.relative(r["url"], origin) for r in await harness.records(store, job_id)]


async def _stored_at_least(store: JobStore, job_id: int, count: int) -> bool:
    return await harness.stored(store, job_id) >= count


async def _status(store: JobStore, job_id: int, *statuses: JobStatus) -> bool:
    return (await store.get(job_id)).status in statuses


async def _open_urls(store: JobStore, job_id: int) -> int:
    async with store.db.read() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(crawl_frontier)
            .where(
                crawl_frontier.c.job_id == job_id,
                crawl_frontier.c.state.in_(("queued", "claimed")),
            )
        )
    return int(count or 0)


async def _stop(worker: processes.Command) -> None:
    worker.signal(signal.SIGTERM)
    code = await asyncio.to_thread(worker.wait, 60)
    assert code == 0, worker.output


async def test_cancelling_a_crawl_stops_it_and_keeps_its_records(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(tree.tree_site(200))
    # Slowed by its rate limit: most of its 16 fetchers are waiting for a token.
    rate = {"requests_per_second": 10, "burst": 1}
    job = await store.enqueue(_crawl(site, rate_limit=rate, concurrency=16))
    running = asyncio.create_task(harness.worker(store).run())
    try:
        await until(lambda: _stored_at_least(store, job.id, 8), timeout=30)
        asked = time.monotonic()
        await store.cancel(job.id)
        await until(lambda: _status(store, job.id, JobStatus.CANCELLED), timeout=5)
        stopped = time.monotonic()
    finally:
        await asyncio.wait_for(running, 30)

    # The worker hears of it at its next heartbeat (0.2s); the waiting fetchers give
    # up their turn at once instead of taking their tokens first (1.6s of them).
    assert stopped - asked < 2.0
    assert not [r for r in site.log.snapshot() if r.at > asked + 0.8]
    kept = await _paths_stored(store, job.id, site.origin)
    # Every page fetched has its record; the rest of the frontier is still there.
    assert _pages_requested(site.log) == dict.fromkeys(kept, 1)
    assert await _open_urls(store, job.id) > 0


async def test_cancelling_a_crawl_stops_its_helpers_too(
    store: JobStore, sites: server.ServerThread
) -> None:
    pages = 300
    site = sites.serve(tree.tree_site(pages, delay=0.02))
    job = await store.enqueue(_crawl(site, parallelism=2))
    # Two workers of one job each: the crawl in one, its helper in the other.
    workers = [harness.worker(store, concurrency=1, burst=False) for _ in range(2)]
    running = [asyncio.create_task(w.run()) for w in workers]
    try:
        helper_id = await until(lambda: _helper_id(store), timeout=30)
        await until(lambda: _status(store, helper_id, JobStatus.RUNNING), timeout=30)
        await until(lambda: _stored_at_least(store, job.id, 30), timeout=30)
        asked = time.monotonic()
        await store.cancel(job.id)
        await until(lambda: _status(store, job.id, JobStatus.CANCELLED), timeout=5)
        await until(lambda: _status(store, helper_id, JobStatus.SUCCEEDED), timeout=5)
        stopped = time.monotonic()
    finally:
        for worker in workers:
            worker.request_stop()
        await asyncio.wait_for(asyncio.gather(*running), 30)

    assert stopped - asked < 3.0
    assert not [r for r in site.log.snapshot() if r.at > stopped]
    kept = await _paths_stored(store, job.id, site.origin)
    assert _pages_requested(site.log) == dict.fromkeys(kept, 1)
    assert await _open_urls(store, job.id) > 0


async def test_a_worker_shutdown_hands_the_crawl_back_and_another_worker_finishes_it(
    store: JobStore, sites: server.ServerThread, database_url: str, tmp_path: Path
) -> None:
    pages = 300
    site = sites.serve(tree.tree_site(pages, delay=0.02))
    job = await store.enqueue(_crawl(site))
    worker = processes.Command(
        ["worker", "--processes", "1", "--concurrency", "2"],
        _env(database_url),
        tmp_path / "worker.log",
    )
    try:
        await until(lambda: _stored_at_least(store, job.id, 30), timeout=30)
        await _stop(worker)
    finally:
        worker.kill()

    handed_back = await store.get(job.id)
    assert handed_back.status is JobStatus.QUEUED and handed_back.attempts == 0
    kept = await _paths_stored(store, job.id, site.origin)
    assert 30 <= len(kept) < pages

    await harness.work(store)

    done = await store.get(job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    assert done.result["pages"] == pages
    stored = await _paths_stored(store, job.id, site.origin)
    assert sorted(stored) == sorted(tree.paths(pages))
    assert stored[: len(kept)] == kept
    # A graceful hand-over: what was under way was finished and stored first, so no
    # page was fetched twice.
    assert _pages_requested(site.log) == dict.fromkeys(tree.paths(pages), 1)


async def _worker_pids(store: JobStore) -> list[int] | None:
    rows = await WorkerRegistry(store.db).list(stale_after=1.5)
    pids = [w.pid for w in rows if w.state is WorkerState.RUNNING and not w.stale]
    return pids or None


async def _gone(pid: int) -> bool:
    """Whether process ``pid`` has died (a zombie its parent has not reaped counts)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(") ")[2].startswith("Z")
    except FileNotFoundError:
        return True


async def test_a_crawl_killed_mid_way_resumes_without_fetching_stored_pages_again(
    store: JobStore, sites: server.ServerThread, database_url: str, tmp_path: Path
) -> None:
    pages = 300
    site = sites.serve(tree.tree_site(pages, delay=0.02))
    job = await store.enqueue(_crawl(site))
    worker = processes.Command(
        ["worker", "--processes", "1", "--concurrency", "2"],
        _env(database_url),
        tmp_path / "worker.log",
    )
    try:
        (pid,) = await until(lambda: _worker_pids(store), timeout=30)
        await until(lambda: _stored_at_least(store, job.id, 60), timeout=30)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        await until(lambda: _gone(pid), timeout=10)
        committed = set(await _paths_stored(store, job.id, site.origin))
        assert len(committed) < pages, "the crawl ended before the kill"

        await until(lambda: _status(store, job.id, JobStatus.SUCCEEDED), timeout=60)
        await _stop(worker)
    finally:
        worker.kill()

    assert "died (signal SIGKILL)" in worker.output
    done = await store.get(job.id)
    assert done.attempts == 2  # rescued once, then finished by the restarted process
    assert done.result["pages"] == pages
    stored = await _paths_stored(store, job.id, site.origin)
    assert sorted(stored) == sorted(tree.paths(pages)), "a page is missing or stored twice"

    requested = _pages_requested(site.log)
    assert set(requested) == tree.paths(pages)
    # No page whose record was committed before the kill was fetched again ...
    assert {path: requested[path] for path in committed} == dict.fromkeys(committed, 1)
    # ... only pages that were in flight: asked for before the kill (the restarted
    # process cannot start before the job's lease runs out), but not yet stored.
    in_flight = set(_pages_requested(site.log, until=killed_at + LEASE / 2)) - committed
    again = {path for path, count in requested.items() if count > 1}
    assert again <= in_flight
    assert max(requested.values()) <= 2


async def _helper_id(store: JobStore) -> int | None:
    async with store.db.read() as conn:
        found = await conn.scalar(sa.select(jobs.c.id).where(jobs.c.kind == "crawl.helper"))
    return int(found) if found is not None else None


async def _all_done(store: JobStore, job_id: int, seen: set[str]) -> bool:
    """Note who holds URLs of the crawl now; whether it and its helper have finished."""
    async with store.db.read() as conn:
        holders = await conn.scalars(
            sa.select(crawl_frontier.c.claimed_by)
            .where(crawl_frontier.c.job_id == job_id, crawl_frontier.c.state == "claimed")
            .distinct()
        )
        seen.update(holder for holder in holders if holder)
    helper = await _helper_id(store)
    return helper is not None and all([(await store.get(job)).finished for job in (job_id, helper)])


async def test_two_worker_processes_work_one_crawl_together(
    store: JobStore, sites: server.ServerThread, database_url: str, tmp_path: Path
) -> None:
    pages = 200
    site = sites.serve(tree.tree_site(pages, delay=0.03))
    job = await store.enqueue(_crawl(site, parallelism=2))
    worker = processes.Command(
        ["worker", "--processes", "2", "--concurrency", "1"],
        _env(database_url),
        tmp_path / "worker.log",
    )
    holders: set[str] = set()
    try:
        await until(lambda: _all_done(store, job.id, holders), timeout=60)
        await _stop(worker)
    finally:
        worker.kill()

    done = await store.get(job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    helper_id = await _helper_id(store)
    assert helper_id is not None
    helper = await store.get(helper_id)
    assert helper.status is JobStatus.SUCCEEDED, helper.error
    stored = await _paths_stored(store, job.id, site.origin)
    assert sorted(stored) == sorted(tree.paths(pages))
    assert _pages_requested(site.log) == dict.fromkeys(tree.paths(pages), 1)
    # Both participants held URLs of the crawl: the lead, and its helper in the other
    # worker process (participants are named worker/job).
    assert {holder.rsplit("/", 1)[1] for holder in holders} == {str(job.id), str(helper_id)}
    assert len({holder.rsplit("/", 1)[0] for holder in holders}) == 2, holders
