"""Rate limits as the server sees them: shared by every crawl of a host, lowered by
robots.txt's ``Crawl-delay``.

Participants withdraw tokens from the shared bucket a burst at a time, so in any window
the host may see the bucket's burst, plus the rate over the window, plus the tokens each
participant held when the window began: that is the bound checked here.
"""

from __future__ import annotations

import asyncio
import collections

import sqlalchemy as sa

from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import host_slots
from tests.crawl import harness
from tests.sites import server, tree
from tests.support.waiting import until


def _most_in_window(times: list[float], window: float) -> int:
    """The largest number of ``times`` within any ``window`` seconds."""
    times = sorted(times)
    most = start = 0
    for end, at in enumerate(times):
        while at - times[start] > window:
            start += 1
        most = max(most, end - start + 1)
    return most


def _is_page(path: str) -> bool:
    return path not in ("/robots.txt", "/sitemap.xml")


async def test_two_crawls_of_one_host_share_its_rate_limit(
    store: JobStore, sites: server.ServerThread
) -> None:
    pages, rate, burst = 40, 20.0, 2
    agents = ("crawler-a", "crawler-b")
    site = sites.serve(tree.tree_site(pages))
    payload = {
        "url": site.url("/"),
        "rate_limit": {"requests_per_second": rate, "burst": burst},
        "concurrency": 8,
    }
    jobs = [
        await store.enqueue(JobSpec("crawl", {**payload, "user_agent": agent})) for agent in agents
    ]
    # Two workers, one job each, with their own HTTP clients and politeness records:
    # only the database is shared, as between processes. A short lease renews held
    # connection slots often, so the second crawl gets its share soon.
    workers = [
        harness.worker(store, concurrency=1, shared=harness.resources(store, lease=2.0))
        for _ in jobs
    ]
    await asyncio.wait_for(asyncio.gather(*(w.run() for w in workers)), 60)

    for job in jobs:
        done = await store.get(job.id)
        assert done.status is JobStatus.SUCCEEDED, done.error
        assert done.result["pages"] == pages
    requests = [r for r in site.log.snapshot() if _is_page(r.path)]
    assert collections.Counter((r.user_agent, r.path) for r in requests) == {
        (agent, path): 1 for agent in agents for path in tree.paths(pages)
    }
    times = [r.at for r in requests]
    slack = burst * (1 + len(workers))
    for window in (0.5, 1.0, 2.0):
        assert _most_in_window(times, window) <= rate * window + slack, window
    # The crawls ran side by side for a good while (the second one gets its share of
    # connection slots when the first renews them), and held the rate together then.
    starts = [min(r.at for r in requests if r.user_agent == agent) for agent in agents]
    ends = [max(r.at for r in requests if r.user_agent == agent) for agent in agents]
    together = min(ends) - max(starts)
    assert together >= 0.75, together
    during = [at for at in times if max(starts) <= at <= min(ends)]
    assert len(during) <= rate * together + slack
    # Together, not each, at the rate.
    assert max(times) - min(times) >= (len(times) - slack) / rate


async def test_crawl_delay_in_robots_txt_lowers_the_rate(
    store: JobStore, sites: server.ServerThread
) -> None:
    pages, delay = 11, 0.2
    site = sites.serve(tree.tree_site(pages, robots=f"User-agent: *\nCrawl-delay: {delay}\n"))

    job = await harness.run_job(
        store, "crawl", {"url": site.url("/"), "rate_limit": harness.UNLIMITED, "concurrency": 8}
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    times = site.log.times(_is_page)
    assert len(times) == pages
    # One request per delay, with a burst of one (and one token held).
    assert _most_in_window(times, 1.0) <= 1.0 / delay + 2
    assert max(times) - min(times) >= (pages - 2) * delay


async def test_a_finished_crawl_gives_back_its_connection_slots(
    store: JobStore, sites: server.ServerThread
) -> None:
    """Held slots are shared state: a worker that keeps running after its crawl ended
    must not keep them from the other workers until their lease runs out."""
    site = sites.serve(tree.tree_site(5))
    shared = harness.resources(store)
    worker = harness.worker(store, shared=shared, burst=False)
    running = asyncio.create_task(worker.run())
    try:
        job = await store.enqueue(JobSpec("crawl", {"url": site.url("/")}))
        await until(lambda: _finished(store, job.id), timeout=30)
        async with store.db.read() as conn:
            held = (
                await conn.execute(
                    sa.select(host_slots.c.host, host_slots.c.slots).where(
                        host_slots.c.holder == shared.worker_id
                    )
                )
            ).all()
    finally:
        worker.request_stop()
        await asyncio.wait_for(running, 30)

    assert (await store.get(job.id)).result["pages"] == 5
    assert held == []


async def _finished(store: JobStore, job_id: int) -> bool:
    return (await store.get(job_id)).finished
