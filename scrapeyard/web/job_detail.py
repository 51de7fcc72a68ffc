"""What a job's page shows, gathered once for the page and again for each live update.

Attempts are read from the job's history: each ``started`` opens one, and the next
outcome (succeeded, failed, retry scheduled, rescued, released, cancelled) closes it.
The job keeps only its last error's traceback, shown under the attempt it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scrapeyard import exports
from scrapeyard.api import deps
from scrapeyard.queue.crawls import CRAWL_KINDS, CrawlStore
from scrapeyard.queue.jobs import EventType, Job, JobEvent
from scrapeyard.web import progress, rendering
from scrapeyard.web.viewer import Viewer

PREVIEW_RESULTS = 10
PREVIEW_ERRORS = 20

SECTIONS = {
    "job-head": "job/_head.html",
    "job-progress": "job/_progress.html",
    "job-facts": "job/_facts.html",
    "job-attempts": "job/_attempts.html",
    "job-timeline": "job/_timeline.html",
    "job-results": "job/_results.html",
    "job-errors": "job/_errors.html",
}
"""Element id -> the template that renders it."""
CRAWL_SECTIONS = frozenset({"job-results", "job-errors"})
"""Sections only scrape, map and crawl jobs have."""

_OUTCOMES = {
    EventType.SUCCEEDED,
    EventType.FAILED,
    EventType.RETRY_SCHEDULED,
    EventType.RESCUED,
    EventType.RELEASED,
    EventType.CANCELLED,
}


@dataclass(frozen=True)
class Attempt:
    number: int
    started_at: datetime
    worker: str | None
    outcome: EventType | None
    ended_at: datetime | None
    message: str | None
    traceback: str | None


@dataclass(frozen=True)
class JobDetail:
    job: Job
    events: list[JobEvent]
    attempts: list[Attempt]
    progress: progress.Progress | None
    crawl: bool
    counters: dict[str, Any] | None
    results: list[dict[str, Any]]
    more_results: bool
    page_errors: list[dict[str, Any]]
    more_errors: bool
    now: datetime

    @property
    def targets(self) -> list[str]:
        return targets(self.job)


def targets(job: Job) -> list[str]:
    """The URLs a job was given (``url`` or ``urls`` in its payload)."""
    return payload_targets(job.payload)


def payload_targets(payload: Mapping[str, Any]) -> list[str]:
    """The URLs in a job payload: its ``url``, or its ``urls``."""
    url = payload.get("url")
    if isinstance(url, str):
        return [url]
    urls = payload.get("urls")
    if isinstance(urls, list):
        return [u for u in urls if isinstance(u, str)]
    return []


def attempts(job: Job, events: list[JobEvent]) -> list[Attempt]:
    found: list[Attempt] = []
    current: JobEvent | None = None
    error = job.error or {}
    for event in events:
        if event.type is EventType.STARTED:
            if current is not None:
                found.append(_attempt(current, None, error))
            current = event
        elif event.type in _OUTCOMES and current is not None:
            found.append(_attempt(current, event, error))
            current = None
    if current is not None:
        found.append(_attempt(current, None, error))
    return found


def _attempt(start: JobEvent, end: JobEvent | None, error: dict[str, Any]) -> Attempt:
    traceback = None
    if end is not None and end.type in (EventType.FAILED, EventType.RETRY_SCHEDULED):
        if error.get("attempt") == start.attempt and isinstance(error.get("traceback"), str):
            traceback = error["traceback"]
    return Attempt(
        number=start.attempt,
        started_at=start.at,
        worker=start.worker,
        outcome=end.type if end else None,
        ended_at=end.at if end else None,
        message=end.message if end else None,
        traceback=traceback,
    )


async def gather(res: deps.Resources, job_id: int) -> JobDetail:
    view = await res.store.view(job_id, with_crawl=True)
    job, events = view.job, view.history
    crawl = job.kind in CRAWL_KINDS
    counters = None
    results: list[dict[str, Any]] = []
    page_errors: list[dict[str, Any]] = []
    more_results = more_errors = False
    if crawl:
        crawls = CrawlStore(res.store.db)
        counters = await crawls.shown_counters(view)
        if counters is not None:
            ok = await crawls.pages(job.id, ok=True, limit=PREVIEW_RESULTS)
            bad = await crawls.pages(job.id, ok=False, limit=PREVIEW_ERRORS)
            results = [exports.record(row) for row in ok.records]
            page_errors = [exports.record(row) for row in bad.records]
            more_results, more_errors = ok.next_cursor is not None, bad.next_cursor is not None
    return JobDetail(
        job=job,
        events=events,
        attempts=attempts(job, events),
        progress=progress.of(job, counters),
        crawl=crawl,
        counters=counters,
        results=results,
        more_results=more_results,
        page_errors=page_errors,
        more_errors=more_errors,
        now=datetime.now(UTC),
    )


def sections(detail: JobDetail, viewer: Viewer) -> dict[str, str]:
    """Each live section of the job's page, rendered."""
    context = {"d": detail, "job": detail.job, "viewer": viewer}
    return {
        element: rendering.render(name, context)
        for element, name in SECTIONS.items()
        if detail.crawl or element not in CRAWL_SECTIONS
    }
