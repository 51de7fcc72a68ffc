"""A crawl whose database writes fail now and then: nothing is lost, nothing hangs.

The frontier store below is the real one, made to fail some of its calls before they
reach the database, the way a deadlock victim, a serialization failure or a dropped
connection fails them (the transaction never happened). Transient failures are retried
until every page is stored once; a failure that is not transient ends the crawl with
that error at once and hands its URLs back, rather than waiting forever for outcomes it
could not store.
"""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa

from scrapeyard import errors
from scrapeyard.queue.crawls import ClaimedUrl, CrawlStore
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import crawl_frontier
from tests.crawl import harness
from tests.sites import server, tree

PAGES = 300


class FlakyCrawlStore(CrawlStore):
    """``CrawlStore`` whose commits and claims fail on the calls ``fail_commit`` and
    ``fail_claim`` pick (by call number, from 1), raising what ``error`` makes."""

    def __init__(
        self,
        inner: CrawlStore,
        *,
        fail_commit: Any = lambda n: False,
        fail_claim: Any = lambda n: False,
        error: Any = lambda: errors.TransactionConflict("deadlock detected (injected)"),
    ) -> None:
        super().__init__(inner.db)
        self._fail_commit = fail_commit
        self._fail_claim = fail_claim
        self._error = error
        self._commits = itertools.count(1)
        self._claims = itertools.count(1)
        self.failed_commits = 0
        self.failed_claims = 0

    async def commit(self, *args: Any, **kwargs: Any) -> int:
        if self._fail_commit(next(self._commits)):
            self.failed_commits += 1
            raise self._error()
        return await super().commit(*args, **kwargs)

    async def claim(self, *args: Any, **kwargs: Any) -> list[ClaimedUrl]:
        if self._fail_claim(next(self._claims)):
            self.failed_claims += 1
            raise errors.DatabaseUnavailable("connection reset (injected)")
        return await super().claim(*args, **kwargs)


async def _frontier_states(store: JobStore, job_id: int) -> dict[str, int]:
    async with store.db.read() as conn:
        rows = await conn.execute(
            sa.select(crawl_frontier.c.state, sa.func.count())
            .where(crawl_frontier.c.job_id == job_id)
            .group_by(crawl_frontier.c.state)
        )
        return {state: count for state, count in rows.all()}


def _crawl(site: server.Served) -> dict[str, Any]:
    return {
        "url": site.url("/"),
        "rate_limit": harness.UNLIMITED,
        "concurrency": 8,
        "use_sitemap": False,
    }


async def test_commits_and_claims_that_fail_now_and_then_lose_no_page(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(tree.tree_site(PAGES))
    shared = harness.resources(store)
    flaky = FlakyCrawlStore(
        shared.crawls, fail_commit=lambda n: n % 3 == 0, fail_claim=lambda n: n % 6 == 0
    )
    shared.crawls = flaky

    job = await harness.run_job(store, "crawl", _crawl(site), shared=shared, timeout=120)

    assert job.status is JobStatus.SUCCEEDED, job.error
    assert flaky.failed_commits >= 3 and flaky.failed_claims >= 2
    assert job.attempts == 1
    paths = sorted(
        harness.relative(r["url"], site.url("").rstrip("/"))
        for r in await harness.records(store, job.id)
    )
    assert paths == sorted(tree.paths(PAGES))
    assert await _frontier_states(store, job.id) == {"done": PAGES}
    # Each page was fetched once: a retried commit stores what was fetched, untouched.
    fetched = site.log.counts()
    fetched.pop("/robots.txt", None)
    assert set(fetched.values()) == {1} and len(fetched) == PAGES


async def test_a_commit_that_fails_for_good_ends_the_crawl_with_its_error_and_hands_urls_back(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(tree.tree_site(PAGES))
    shared = harness.resources(store)
    shared.crawls = FlakyCrawlStore(
        shared.crawls,
        fail_commit=lambda n: n >= 3,
        error=lambda: RuntimeError("value too long for type character varying(255)"),
    )
    job = await store.enqueue(JobSpec("crawl", _crawl(site), max_attempts=1))

    # Within the timeout: the crawl does not wait for the outcomes it could not store.
    await harness.work(store, shared=shared, timeout=60)

    job = await store.get(job.id)
    assert job.status is JobStatus.FAILED
    assert job.error is not None and "value too long" in job.error["message"]
    states = await _frontier_states(store, job.id)
    assert "claimed" not in states, states
    assert states.get("queued", 0) > 0
