"""Questions only the dashboard asks: throughput per minute, jobs found by URL, which
jobs each worker runs, and the stored digest of a key (which seals its sessions).

Everything here reads; nothing changes state. Times come from the database's clock, as
everywhere in the queue, so every API process draws the same chart.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from scrapeyard.queue import queries
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_between, seconds_from_now
from scrapeyard.queue.jobs import FINISHED_STATUSES, JobStatus
from scrapeyard.queue.tables import api_keys, crawl_pages, jobs

MAX_SEARCH_LENGTH = 500
"""Longest text the URL search accepts."""


@dataclass(frozen=True)
class Throughput:
    """What finished in each of the last ``minutes`` minutes, oldest minute first.

    ``jobs`` maps a finished status to a count per minute; ``pages`` and ``page_errors``
    count page records stored per minute (fetched successfully, and failed or skipped).
    """

    minutes: int
    jobs: dict[str, list[int]]
    pages: list[int]
    page_errors: list[int]


def _minutes_ago(db: Database, column: sa.ColumnElement[object]) -> sa.ColumnElement[int]:
    """Whole minutes between ``column`` and the database's clock."""
    elapsed = seconds_between(column, now()) / 60
    if db.backend == "postgresql":
        # A cast to integer rounds on PostgreSQL; minutes must be truncated.
        return sa.cast(sa.func.floor(elapsed), sa.Integer)
    return sa.cast(elapsed, sa.Integer)  # SQLite truncates; the value is never negative


async def throughput(db: Database, *, minutes: int = 60) -> Throughput:
    """Jobs finished and pages stored per minute over the last ``minutes`` minutes.

    Pages are counted only for jobs running now or finished within the window, so the
    indexes on job status and finish time keep this cheap however many pages older
    crawls stored.
    """
    window = seconds_from_now(-60.0 * minutes)
    ago = _minutes_ago(db, jobs.c.finished_at).label("ago")
    finished = (
        sa.select(ago, jobs.c.status, sa.func.count().label("n"))
        .where(
            jobs.c.finished_at.is_not(None),
            jobs.c.finished_at >= window,
            jobs.c.status.in_([str(s) for s in FINISHED_STATUSES]),
        )
        .group_by(ago, jobs.c.status)
    )
    recent_jobs = sa.select(jobs.c.id).where(
        sa.or_(
            jobs.c.status == str(JobStatus.RUNNING),
            sa.and_(jobs.c.finished_at.is_not(None), jobs.c.finished_at >= window),
        )
    )
    page_ago = _minutes_ago(db, crawl_pages.c.fetched_at).label("ago")
    stored = (
        sa.select(page_ago, crawl_pages.c.ok, sa.func.count().label("n"))
        .where(crawl_pages.c.job_id.in_(recent_jobs), crawl_pages.c.fetched_at >= window)
        .group_by(page_ago, crawl_pages.c.ok)
    )
    by_status = {str(s): [0] * minutes for s in sorted(FINISHED_STATUSES)}
    pages = [0] * minutes
    page_errors = [0] * minutes
    async with db.read() as conn:
        for row in (await conn.execute(finished)).mappings():
            index = minutes - 1 - int(row["ago"])
            if 0 <= index < minutes:
                by_status[row["status"]][index] += int(row["n"])
        for row in (await conn.execute(stored)).mappings():
            index = minutes - 1 - int(row["ago"])
            if 0 <= index < minutes:
                (pages if row["ok"] else page_errors)[index] += int(row["n"])
    return Throughput(minutes=minutes, jobs=by_status, pages=pages, page_errors=page_errors)


async def search_jobs(
    db: Database,
    where: queries.JobFilter,
    *,
    url_contains: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> queries.Page:
    """A page of jobs matching ``where`` (and a URL search), newest first.

    The URL search matches, case-insensitively, the payload's ``url`` or any of its
    ``urls``: the start URLs of scrape, map and crawl jobs. Cursors are those of
    ``JobStore.list_jobs``.
    """
    extra = []
    if url_contains:
        text = url_contains[:MAX_SEARCH_LENGTH]
        extra.append(
            sa.or_(
                jobs.c.payload["url"].as_string().icontains(text, autoescape=True),
                jobs.c.payload["urls"].as_string().icontains(text, autoescape=True),
            )
        )
    stmt = queries.page_query(where, limit=limit, cursor=cursor, extra=extra)
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return queries.to_page(rows, limit)


async def running_by_worker(db: Database) -> dict[str, list[int]]:
    """The ids of the running jobs each worker holds a lease on, oldest claim first."""
    stmt = (
        sa.select(jobs.c.lease_owner, jobs.c.id)
        .where(jobs.c.status == str(JobStatus.RUNNING), jobs.c.lease_owner.is_not(None))
        .order_by(jobs.c.started_at, jobs.c.id)
    )
    running: dict[str, list[int]] = {}
    async with db.read() as conn:
        for owner, job_id in (await conn.execute(stmt)).all():
            running.setdefault(str(owner), []).append(int(job_id))
    return running


async def key_digest(db: Database, key_id: int) -> str | None:
    """The stored digest (SHA-256 of the secret) of key ``key_id``; ``None`` if no such key.

    The dashboard derives a session's sealing keys from its API key's digest, so only a
    server that can read the key's row can open the session.
    """
    stmt = sa.select(api_keys.c.secret_hash).where(api_keys.c.id == key_id)
    async with db.read() as conn:
        digest = await conn.scalar(stmt)
    return None if digest is None else str(digest)
