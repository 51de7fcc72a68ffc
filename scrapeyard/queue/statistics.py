"""Figures about jobs and workers for ``/metrics``, aggregated by the database.

Everything is computed from the tables at the moment of asking, with the database's
clock, so every API process on every host reports the same numbers. Durations are
bucketed in SQL: one grouped row per kind and outcome, however many jobs there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_between
from scrapeyard.queue.jobs import FINISHED_STATUSES, JobStatus
from scrapeyard.queue.tables import crawl_pages, crawls, hosts, jobs, workers
from scrapeyard.queue.workers import WorkerState

DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
"""Upper bounds, in seconds, of the job duration histogram (``+Inf`` is implied)."""


@dataclass(frozen=True)
class Finished:
    """How many finished jobs of a kind ended one way."""

    kind: str
    outcome: str
    count: int


@dataclass(frozen=True)
class Durations:
    """Run times of finished jobs of one kind and outcome, bucketed."""

    kind: str
    outcome: str
    cumulative: tuple[int, ...]
    """Jobs at or under each bound of ``DURATION_BUCKETS``, in order."""
    count: int
    total_seconds: float


@dataclass(frozen=True)
class WorkerFigures:
    """One live worker process."""

    id: str
    host: str
    pid: int
    state: str
    rss_bytes: int
    jobs_running: int
    heartbeat_age: float


@dataclass(frozen=True)
class CrawlFigures:
    """What crawls have fetched (of the jobs kept), and how hosts are faring."""

    pages_by_class: dict[str, int]
    """Page records by HTTP status class (``2xx``...), fetched ones only."""
    bytes: int
    throttled: dict[str, int]
    """Per host: times a request had to wait for a token."""
    open_circuits: list[str]
    """Hosts whose circuit a worker last reported open."""


class Statistics:
    """Aggregate reads over the jobs, workers, crawls and hosts tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _rows(self, stmt: sa.Executable) -> Sequence[sa.RowMapping]:
        async with self.db.read() as conn:
            return list((await conn.execute(stmt)).mappings().all())

    async def finished(self) -> list[Finished]:
        """Finished jobs still kept (see ``queue.retention``), by kind and outcome."""
        stmt = (
            sa.select(jobs.c.kind, jobs.c.status, sa.func.count().label("n"))
            .where(jobs.c.status.in_([str(s) for s in FINISHED_STATUSES]))
            .group_by(jobs.c.kind, jobs.c.status)
        )
        return [Finished(row["kind"], row["status"], row["n"]) for row in await self._rows(stmt)]

    async def durations(self) -> list[Durations]:
        """The last attempt's run time of kept succeeded and failed jobs, bucketed."""
        duration = seconds_between(jobs.c.started_at, jobs.c.finished_at)
        buckets = [
            sa.func.sum(sa.case((duration <= bound, 1), else_=0)).label(f"b{i}")
            for i, bound in enumerate(DURATION_BUCKETS)
        ]
        stmt = (
            sa.select(
                jobs.c.kind,
                jobs.c.status,
                sa.func.count().label("n"),
                sa.func.sum(duration).label("total"),
                *buckets,
            )
            .where(
                jobs.c.status.in_((str(JobStatus.SUCCEEDED), str(JobStatus.FAILED))),
                jobs.c.started_at.is_not(None),
                jobs.c.finished_at.is_not(None),
            )
            .group_by(jobs.c.kind, jobs.c.status)
        )
        return [
            Durations(
                kind=row["kind"],
                outcome=row["status"],
                cumulative=tuple(int(row[f"b{i}"] or 0) for i in range(len(DURATION_BUCKETS))),
                count=row["n"],
                total_seconds=float(row["total"] or 0.0),
            )
            for row in await self._rows(stmt)
        ]

    async def crawls(self, *, max_hosts: int = 1000) -> CrawlFigures:
        """Pages by status class, bytes downloaded, throttle waits and open circuits."""
        status_class = sa.cast(crawl_pages.c.status / 100, sa.Integer).label("class")
        by_class = (
            sa.select(status_class, sa.func.count().label("n"))
            .where(crawl_pages.c.status.is_not(None))
            .group_by(status_class)
        )
        pages = {f"{row['class']}xx": int(row["n"]) for row in await self._rows(by_class)}
        total = await self._rows(sa.select(sa.func.sum(crawls.c.bytes).label("bytes")))
        host_rows = await self._rows(
            sa.select(hosts.c.host, hosts.c.throttled, hosts.c.circuit)
            .order_by(hosts.c.updated_at.desc())
            .limit(max_hosts)
        )
        return CrawlFigures(
            pages_by_class=pages,
            bytes=int(total[0]["bytes"] or 0) if total else 0,
            throttled={row["host"]: int(row["throttled"]) for row in host_rows},
            open_circuits=[
                row["host"]
                for row in host_rows
                if isinstance(row["circuit"], dict) and row["circuit"].get("state") == "open"
            ],
        )

    async def workers(self) -> list[WorkerFigures]:
        """Worker processes that have not stopped, with their heartbeat's age."""
        stmt = sa.select(
            workers.c.id,
            workers.c.host,
            workers.c.pid,
            workers.c.state,
            workers.c.rss_bytes,
            workers.c.jobs_running,
            seconds_between(workers.c.last_seen_at, now()).label("age"),
        ).where(workers.c.state != str(WorkerState.STOPPED))
        return [
            WorkerFigures(
                id=row["id"],
                host=row["host"],
                pid=row["pid"],
                state=row["state"],
                rss_bytes=row["rss_bytes"],
                jobs_running=row["jobs_running"],
                heartbeat_age=max(float(row["age"]), 0.0),
            )
            for row in await self._rows(stmt)
        ]
