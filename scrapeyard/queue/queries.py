"""Read-only questions about jobs: one job, a filtered page of them, counts, history."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue.database import Database
from scrapeyard.queue.jobs import Job, JobEvent, JobStatus
from scrapeyard.queue.tables import crawls, job_dependencies, job_events, jobs, queues

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class JobFilter:
    """Which jobs to list; every field is optional and they combine with AND."""

    status: Sequence[JobStatus] = ()
    queue: str | None = None
    kind: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class Page:
    """A page of jobs, newest first, and the cursor of the next page (``None``: last)."""

    jobs: list[Job]
    next_cursor: str | None


@dataclass(frozen=True)
class JobView:
    """A job with its history, the jobs it depends on, and its chain (if any)."""

    job: Job
    history: list[JobEvent]
    depends_on: list[int]
    chain: list[Job] | None
    crawl: dict[str, Any] | None = None
    """The crawl's row (its counters), when asked for and the job has one."""


def page_query(
    where: JobFilter, *, limit: int, cursor: str | None, extra: Sequence[Any] = ()
) -> sa.Select[Any]:
    """The jobs matching ``where`` (and ``extra`` conditions) after ``cursor``, newest
    first: one row more than ``limit``, to tell whether another page follows."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise errors.InvalidInput("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    stmt = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit + 1)
    if where.status:
        stmt = stmt.where(jobs.c.status.in_([str(s) for s in where.status]))
    if where.queue is not None:
        stmt = stmt.where(jobs.c.queue == where.queue)
    if where.kind is not None:
        stmt = stmt.where(jobs.c.kind == where.kind)
    if where.created_after is not None:
        stmt = stmt.where(jobs.c.created_at >= where.created_after)
    if where.created_before is not None:
        stmt = stmt.where(jobs.c.created_at < where.created_before)
    for condition in extra:
        stmt = stmt.where(condition)
    if cursor is not None:
        stmt = stmt.where(jobs.c.id < decode_cursor(cursor))
    return stmt


def to_page(rows: Sequence[Mapping[Any, Any]], limit: int) -> Page:
    """The rows of a ``page_query`` as a page of jobs."""
    page = [Job.from_row(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(page, encode_cursor(page[-1].id) if more and page else None)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"j{last_id}".encode()).decode().rstrip("=")


MAX_ID = 2**63 - 1


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("j"):
            raise ValueError
        position = int(raw[1:])
        if not 0 < position <= MAX_ID:
            raise ValueError
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise errors.InvalidInput("cursor", "is not a cursor this API returned") from None


@dataclass(frozen=True)
class QueueInfo:
    """A queue as an operator sees it."""

    name: str
    paused: bool
    counts: dict[str, int]


class JobQueries:
    """Read-only access to jobs; ``JobStore`` adds the transitions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _rows(self, stmt: sa.Select[tuple[object, ...]]) -> list[sa.RowMapping]:
        async with self.db.read() as conn:
            return list((await conn.execute(stmt)).mappings().all())

    async def get(self, job_id: int) -> Job:
        """One job; ``JobNotFound`` if there is none with that id."""
        rows = await self._rows(sa.select(jobs).where(jobs.c.id == job_id))
        if not rows:
            raise errors.JobNotFound(job_id)
        return Job.from_row(rows[0])

    async def get_many(self, job_ids: Sequence[int]) -> dict[int, Job]:
        """The jobs among ``job_ids`` that exist, by id."""
        rows = await self._rows(sa.select(jobs).where(jobs.c.id.in_(list(job_ids))))
        return {row["id"]: Job.from_row(row) for row in rows}

    async def list_jobs(
        self,
        where: JobFilter | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """A page of jobs matching ``where``, newest first."""
        rows = await self._rows(page_query(where or JobFilter(), limit=limit, cursor=cursor))
        return to_page(rows, limit)

    async def counts(self) -> dict[str, dict[str, int]]:
        """Jobs per queue and status: ``{"default": {"queued": 3, ...}}``."""
        stmt = sa.select(jobs.c.queue, jobs.c.status, sa.func.count().label("n")).group_by(
            jobs.c.queue, jobs.c.status
        )
        result: dict[str, dict[str, int]] = {}
        for row in await self._rows(stmt):
            result.setdefault(row["queue"], {})[row["status"]] = row["n"]
        return result

    async def status_counts(self) -> dict[str, int]:
        """Jobs per status over every queue, every status present (zero or more)."""
        totals = {str(status): 0 for status in JobStatus}
        for by_status in (await self.counts()).values():
            for status, count in by_status.items():
                totals[status] += count
        return totals

    async def queues(self) -> list[QueueInfo]:
        """Every queue that has jobs or settings, with counts and whether it is paused."""
        counts = await self.counts()
        paused = await self.paused_queues()
        names = sorted(set(counts) | set(paused))
        return [QueueInfo(name, name in paused, counts.get(name, {})) for name in names]

    async def paused_queues(self) -> set[str]:
        rows = await self._rows(sa.select(queues.c.name).where(queues.c.paused.is_(True)))
        return {row["name"] for row in rows}

    async def events(self, job_id: int) -> list[JobEvent]:
        """A job's history, oldest first."""
        rows = await self._rows(
            sa.select(job_events).where(job_events.c.job_id == job_id).order_by(job_events.c.id)
        )
        if not rows:
            await self.get(job_id)  # every job has a history: none means no such job
        return [JobEvent.from_row(row) for row in rows]

    async def with_history(self, job_id: int) -> tuple[Job, list[JobEvent]]:
        """A job and its history, read on one connection."""
        async with self.db.read() as conn:
            job_row = await _job_row(conn, sa.select(jobs).where(jobs.c.id == job_id), job_id)
            return Job.from_row(job_row), await _history(conn, job_id)

    async def view(self, job_id: int, *, with_crawl: bool = False) -> JobView:
        """Everything a job's page shows, on one connection; ``with_crawl`` adds the
        crawl's row (its counters, but not the count of its open URLs)."""
        async with self.db.read() as conn:
            has_dependencies = (
                sa.exists().where(job_dependencies.c.job_id == jobs.c.id).label("has_deps")
            )
            stmt = sa.select(jobs, has_dependencies).where(jobs.c.id == job_id)
            if with_crawl:
                stmt = stmt.add_columns(
                    *(column.label(f"crawl_{column.name}") for column in crawls.c)
                ).outerjoin(crawls, crawls.c.job_id == jobs.c.id)
            job_row = await _job_row(conn, stmt, job_id)
            job = Job.from_row(job_row)
            crawl = None
            if with_crawl and job_row["crawl_job_id"] is not None:
                crawl = {column.name: job_row[f"crawl_{column.name}"] for column in crawls.c}
            history = await _history(conn, job_id)
            depends_on: list[int] = []
            if job_row["has_deps"]:
                depends_on = list(
                    (
                        await conn.execute(
                            sa.select(job_dependencies.c.depends_on)
                            .where(job_dependencies.c.job_id == job_id)
                            .order_by(job_dependencies.c.depends_on)
                        )
                    ).scalars()
                )
            chain = None
            if job.chain_id is not None:
                chained = await conn.execute(
                    sa.select(jobs).where(jobs.c.chain_id == job.chain_id).order_by(jobs.c.id)
                )
                chain = [Job.from_row(row) for row in chained.mappings()]
            return JobView(job, history, depends_on, chain, crawl)

    async def next_run_at(self, queue_names: Sequence[str]) -> datetime | None:
        """When the earliest waiting job in ``queue_names`` becomes ready."""
        stmt = sa.select(sa.func.min(jobs.c.run_at).label("next")).where(
            jobs.c.status.in_((str(JobStatus.SCHEDULED), str(JobStatus.QUEUED))),
            jobs.c.queue.in_(list(queue_names)),
        )
        rows = await self._rows(stmt)
        value = rows[0]["next"] if rows else None
        return value if isinstance(value, datetime) else None

    async def dependencies(self, job_id: int) -> list[int]:
        """The ids of the jobs ``job_id`` depends on."""
        rows = await self._rows(
            sa.select(job_dependencies.c.depends_on)
            .where(job_dependencies.c.job_id == job_id)
            .order_by(job_dependencies.c.depends_on)
        )
        return [row["depends_on"] for row in rows]

    async def chain(self, chain_id: int) -> list[Job]:
        """The jobs of a chain, in the order they run."""
        rows = await self._rows(
            sa.select(jobs).where(jobs.c.chain_id == chain_id).order_by(jobs.c.id)
        )
        return [Job.from_row(row) for row in rows]


async def _job_row(conn: AsyncConnection, stmt: sa.Select[Any], job_id: int) -> Mapping[str, Any]:
    row: Mapping[str, Any] | None = (await conn.execute(stmt)).mappings().one_or_none()
    if row is None:
        raise errors.JobNotFound(job_id)
    return row


async def _history(conn: AsyncConnection, job_id: int) -> list[JobEvent]:
    rows = await conn.execute(
        sa.select(job_events).where(job_events.c.job_id == job_id).order_by(job_events.c.id)
    )
    return [JobEvent.from_row(row) for row in rows.mappings()]
