"""The job kinds that fetch the web: ``scrape``, ``map``, ``crawl`` (and its helpers).

All three run the same engine on a persistent frontier:

- ``scrape`` fetches exactly the URLs it is given and stores a record for each;
- ``map`` follows sitemaps and links within scope and returns the URLs it found,
  storing no page content;
- ``crawl`` follows links within scope up to ``max_pages``, storing a record per page.
  With ``parallelism`` > 1 it enqueues ``crawl.helper`` jobs (once its start URLs are
  in the frontier) that work the same frontier from other worker slots, processes or
  hosts, until no URL is left or the crawl job ends.

A scrape or crawl with a ``dataset`` option feeds its stored pages into that dataset
once the crawl is done (``crawl_datasets.py``); the run's summary joins the result.

A crawl stopped by a worker shutdown hands its job back (the frontier keeps its
place); a cancelled one stops within a heartbeat and keeps what it stored, and its
helpers stop within ``HELPER_WATCH_INTERVAL``.

The crawl engine is imported when a job of these kinds first runs or is validated, not
when the kinds are registered: processes that never crawl stay small.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from scrapeyard import errors
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.handlers import job_kind

if TYPE_CHECKING:
    from scrapeyard.crawl.crawler import Snapshot
    from scrapeyard.crawl.options import CrawlOptions
    from scrapeyard.worker.resources import Resources

CRAWL_TIMEOUT = 7 * 86400.0
"""Crawls run for as long as their pages take; the per-page timeouts bound each fetch."""
MAP_RESULT_LIMIT = 100_000
HELPER_WATCH_INTERVAL = 1.0
"""Seconds between a helper's looks at the crawl job it helps."""


def _validator(mode: str) -> Any:
    def validate(payload: Mapping[str, Any]) -> None:
        from scrapeyard.crawl import options

        options.validate(mode, payload)

    return validate


def _validate_helper(payload: Mapping[str, Any]) -> None:
    crawl_id = payload.get("crawl_id")
    if isinstance(crawl_id, bool) or not isinstance(crawl_id, int) or crawl_id < 1:
        raise errors.InvalidInput("crawl_id", "must be the id of a crawl job")


@contextlib.asynccontextmanager
async def _stop_signal(ctx: JobContext, crawl_id: int) -> AsyncIterator[asyncio.Event]:
    """An event set when the job is cancelled or its worker starts shutting down, and
    for a helper, when the crawl it helps has ended (cancelled, failed or done)."""
    stop = asyncio.Event()

    async def watch() -> None:
        waiters: list[asyncio.Future[object]] = [
            asyncio.ensure_future(ctx.cancelled.wait()),
            asyncio.ensure_future(ctx.stopping.wait()),
        ]
        if crawl_id != ctx.job.id:
            waiters.append(asyncio.ensure_future(_crawl_ended(ctx, crawl_id)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
        finally:
            for waiter in waiters:
                waiter.cancel()

    watcher = asyncio.create_task(watch())
    try:
        yield stop
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


async def _crawl_ended(ctx: JobContext, crawl_id: int) -> None:
    """Return once the crawl job ``crawl_id`` has finished or was asked to stop."""
    while True:
        await asyncio.sleep(HELPER_WATCH_INTERVAL)
        try:
            crawl = await ctx.store.get(crawl_id)
        except errors.DatabaseUnavailable:
            continue
        except errors.JobNotFound:
            return
        if crawl.finished or crawl.cancel_requested:
            return


def _progress(ctx: JobContext) -> Any:
    async def report(snapshot: Snapshot) -> None:
        c = snapshot.counters
        done = c.fetched + c.failed + c.skipped_robots
        await ctx.progress(
            done,
            c.admitted,
            discovered=c.discovered,
            fetched=c.fetched,
            failed=c.failed,
            queued=c.open,
            skipped={
                "robots": c.skipped_robots,
                "scope": c.skipped_scope,
                "content_type": c.skipped_content_type,
            },
            bytes=c.bytes,
            pages_per_second=round(snapshot.pages_per_second, 1),
            elapsed=round(snapshot.elapsed, 1),
        )

    return report


async def _run(
    ctx: JobContext,
    options: CrawlOptions,
    crawl_id: int,
    *,
    lead: bool,
    on_seeded: Callable[[], Awaitable[None]] | None = None,
) -> Snapshot:
    from scrapeyard.crawl.crawler import Crawler, Snapshot
    from scrapeyard.crawl.pages import PageWork
    from scrapeyard.worker import crawl_watch
    from scrapeyard.worker.crawl_state import SqlCrawlState

    resources = ctx.resources
    state = SqlCrawlState(
        resources.crawls,
        crawl_id,
        f"{resources.worker_id}/{ctx.job.id}",
        lease=resources.lease,
    )
    # job.page webhooks and rate-limit alerts see every commit (a no-op when unwanted).
    watched = await crawl_watch.watch(ctx, state, crawl_id, lead=lead)
    work = PageWork(
        options,
        client=resources.fetcher,
        robots_cache=resources.robots,
        limits=resources.politeness,
        breaker=resources.circuits,
        **_browser(resources, options, crawl_id),
    )
    async with _stop_signal(ctx, crawl_id) as stop:
        crawler = Crawler(
            options,
            watched,
            work,
            lead=lead,
            on_seeded=on_seeded,
            stop=stop,
            progress=_progress(ctx) if lead else None,
            renew_interval=max(resources.lease / 4, 0.5),
        )
        try:
            counters = await crawler.run()
        finally:
            await watched.close()
            await work.close()
        circuits = [snapshot.to_json() for snapshot in resources.circuits.snapshot()]
        if lead and circuits:
            await state.note(circuits=circuits)
            await resources.hosts.record_circuits(circuits)
    ctx.raise_if_cancelled()
    if ctx.stopping.is_set():
        raise errors.JobInterrupted("the worker is shutting down; the crawl will resume")
    return Snapshot(counters, 0.0, 0.0)


def _browser(resources: Resources, options: CrawlOptions, crawl_id: int) -> dict[str, Any]:
    """The browser pool and capture store of a job that renders pages (none otherwise).

    A browser that cannot start fails the job for good, saying how to install one.
    """
    if not options.render.enabled:
        return {}
    from scrapeyard.crawl.render import outputs

    browsers = resources.browsers
    try:
        browsers.check()
    except errors.BrowserUnavailable as exc:
        raise errors.PermanentError(str(exc)) from exc
    return {"browsers": browsers, "captures": outputs.CaptureStore(resources.data_dir, crawl_id)}


def _summary(snapshot: Snapshot) -> dict[str, Any]:
    c = snapshot.counters
    return {
        "pages": c.fetched,
        "failed": c.failed,
        "discovered": c.discovered,
        "skipped": {
            "robots": c.skipped_robots,
            "scope": c.skipped_scope,
            "content_type": c.skipped_content_type,
        },
        "bytes": c.bytes,
    }


async def _into_dataset(ctx: JobContext, mode: str, result: dict[str, Any]) -> dict[str, Any]:
    """``result``, with the dataset run's summary when the job names a dataset."""
    if "dataset" not in ctx.job.payload:
        return result
    from scrapeyard.worker import crawl_datasets

    return {
        **result,
        "dataset": await crawl_datasets.ingest_pages(ctx, mode, ctx.job.payload["dataset"]),
    }


async def _start(ctx: JobContext, mode: str) -> CrawlOptions:
    from scrapeyard.crawl.options import CrawlOptions

    options = CrawlOptions.from_payload(mode, ctx.job.payload, ctx.resources.crawl_defaults)
    await ctx.resources.crawls.ensure(ctx.job.id, mode, options.max_pages)
    return options


@job_kind("scrape", timeout=CRAWL_TIMEOUT, validate=_validator("scrape"))
async def scrape(ctx: JobContext) -> dict[str, Any]:
    """Fetch the given URLs and store a record (formats, fields) for each."""
    options = await _start(ctx, "scrape")
    return await _into_dataset(
        ctx, "scrape", _summary(await _run(ctx, options, ctx.job.id, lead=True))
    )


@job_kind("map", timeout=CRAWL_TIMEOUT, validate=_validator("map"))
async def map_site(ctx: JobContext) -> dict[str, Any]:
    """Discover a site's URLs from sitemaps and links, storing no page content."""
    options = await _start(ctx, "map")
    snapshot = await _run(ctx, options, ctx.job.id, lead=True)
    found = await ctx.resources.crawls.urls(ctx.job.id, MAP_RESULT_LIMIT)
    return {**_summary(snapshot), "count": len(found), "urls": found}


@job_kind("crawl", timeout=CRAWL_TIMEOUT, validate=_validator("crawl"))
async def crawl(ctx: JobContext) -> dict[str, Any]:
    """Crawl from the start URLs within scope, storing a record for every page."""
    options = await _start(ctx, "crawl")

    async def enqueue_helpers() -> None:
        # Once the start URLs are in the frontier, so that helpers find work to wait for.
        for n in range(1, options.parallelism):
            await ctx.enqueue(
                JobSpec(
                    "crawl.helper",
                    {"crawl_id": ctx.job.id},
                    queue=ctx.job.queue,
                    priority=ctx.job.priority,
                    unique_key=f"crawl:{ctx.job.id}:helper:{n}",
                )
            )

    snapshot = await _run(ctx, options, ctx.job.id, lead=True, on_seeded=enqueue_helpers)
    return await _into_dataset(ctx, "crawl", _summary(snapshot))


@job_kind("crawl.helper", timeout=CRAWL_TIMEOUT, validate=_validate_helper)
async def crawl_helper(ctx: JobContext) -> dict[str, Any]:
    """Work another crawl's frontier alongside it (see ``parallelism``)."""
    crawl_id = int(ctx.job.payload["crawl_id"])
    parent = await ctx.store.get(crawl_id)
    if parent.finished:
        return {"pages": 0, "note": f"crawl {crawl_id} had already finished"}
    from scrapeyard.crawl.options import CrawlOptions

    options = CrawlOptions.from_payload(parent.kind, parent.payload, ctx.resources.crawl_defaults)
    snapshot = await _run(ctx, options, crawl_id, lead=False)
    return {"crawl_id": crawl_id, **_summary(snapshot)}
