"""Running crawl jobs in the test's process, and reading back what they stored.

``run_job`` enqueues a scrape, map or crawl job and runs a real ``WorkerProcess`` (in
``--burst`` mode, with its own ``Resources``) until no job is left, the way
``scrapeyard worker`` would. Loopback addresses are refused by the SSRF guard unless
allowed, so the workers here allow exactly ``127.0.0.1/32``, the address the test sites
listen on.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Sequence
from typing import Any

import aiohttp.abc
import sqlalchemy as sa

from scrapeyard.crawl.options import CrawlDefaults
from scrapeyard.queue.crawls import CrawlStore
from scrapeyard.queue.jobs import Job, JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import crawl_pages
from scrapeyard.worker import events
from scrapeyard.worker.process import WorkerOptions, WorkerProcess
from scrapeyard.worker.queues import QueueSelector
from scrapeyard.worker.resources import Resources

LOOPBACK = ("127.0.0.1/32",)
UNLIMITED = {"requests_per_second": 0}
"""A rate limit that lets a crawl go as fast as it can (the tests' sites are local)."""


def new_worker_id() -> str:
    return f"crawl-test-{uuid.uuid4().hex[:8]}"


def resources(
    store: JobStore,
    *,
    worker_id: str | None = None,
    allowed_networks: Sequence[str] = LOOPBACK,
    defaults: CrawlDefaults | None = None,
    resolver: aiohttp.abc.AbstractResolver | None = None,
    lease: float = 5.0,
    robots_failure_ttl: float = 60.0,
) -> Resources:
    """A worker's shared resources; ``lease`` is for frontier URLs and connection slots."""
    return Resources(
        store,
        worker_id=worker_id or new_worker_id(),
        defaults=defaults,
        allowed_networks=allowed_networks,
        lease=lease,
        resolver=resolver,
        robots_failure_ttl=robots_failure_ttl,
    )


def worker(
    store: JobStore,
    *,
    shared: Resources | None = None,
    concurrency: int = 4,
    burst: bool = True,
) -> WorkerProcess:
    """A worker process object (not started) with fast timings."""
    shared = shared or resources(store)
    return WorkerProcess(
        store,
        WorkerOptions(
            queues=QueueSelector(("default",)),
            concurrency=concurrency,
            burst=burst,
            poll_interval=0.05,
            heartbeat_interval=0.2,
            shutdown_grace=5.0,
            cancel_grace=2.0,
        ),
        hooks=events.Hooks(),
        worker_id=shared.worker_id,
        resources=shared,
    )


async def work(store: JobStore, *, shared: Resources | None = None, timeout: float = 60) -> None:
    """Run jobs in this process until none is ready."""
    await asyncio.wait_for(worker(store, shared=shared).run(), timeout)


async def run_job(
    store: JobStore,
    kind: str,
    payload: dict[str, Any],
    *,
    shared: Resources | None = None,
    timeout: float = 60,
) -> Job:
    """Enqueue a ``kind`` job, run it to its end in this process, and return it."""
    job = await store.enqueue(JobSpec(kind, payload))
    await work(store, shared=shared, timeout=timeout)
    return await store.get(job.id)


async def records(store: JobStore, job_id: int) -> list[dict[str, Any]]:
    """Every page record of a crawl, in the order they were stored."""
    crawls = CrawlStore(store.db)
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await crawls.pages(job_id, limit=500, cursor=cursor)
        found += page.records
        cursor = page.next_cursor
        if cursor is None:
            return found


async def records_by_path(store: JobStore, job_id: int, origin: str) -> dict[str, dict[str, Any]]:
    """The page records on ``origin``, keyed by path (with query); others by full URL."""
    return {relative(r["url"], origin): r for r in await records(store, job_id)}


async def counters(store: JobStore, job_id: int) -> dict[str, Any]:
    row = await CrawlStore(store.db).counters(job_id)
    assert row is not None, f"no crawl row for job {job_id}"
    return row


def relative(url: str, origin: str) -> str:
    return url[len(origin) :] or "/" if url.startswith(origin) else url


class StaticResolver(aiohttp.abc.AbstractResolver):
    """Resolves every name in ``names`` to 127.0.0.1, and nothing else.

    Lets a test crawl several host names (``site.test``, ``blog.site.test``) served by
    one loopback server, with no change to the machine's DNS.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = set(names)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        if host not in self.names:
            raise OSError(f"{host} does not resolve")
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


async def stored(store: JobStore, job_id: int) -> int:
    """How many page records a crawl has stored so far."""
    async with store.db.read() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(crawl_pages)
            .where(crawl_pages.c.job_id == job_id)
        )
    return int(count or 0)
