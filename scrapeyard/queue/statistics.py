"""Figures about jobs and workers for ``/metrics``, aggregated by the database.

Everything is computed from the tables at the moment of asking, with the database's
clock, so every API process on every host reports the same numbers. Durations are
bucketed in SQL: one grouped row per kind and outcome, however many jobs there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_between
from scrapeyard.queue.jobs import FINISHED_STATUSES, JobStatus
from scrapeyard.queue.tables import jobs, workers
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


class Statistics:
    """Aggregate reads over the jobs and workers tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _rows(self, stmt: sa.Select[Any]) -> Sequence[sa.RowMapping]:
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
