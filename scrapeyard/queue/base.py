"""What every part of the job store shares: the database, transactions, events, wake-ups.

``JobStore`` (store.py) is assembled from parts that each own a group of transitions:
enqueueing (enqueuing.py), a claimed job's life (lifecycle.py), operators' actions
(operations.py) and housekeeping (housekeeping.py). They share this base, which holds
the database, the kinds catalogue and defaults, and the helpers every transition uses:
a write transaction (or the caller's), the job history, and wake-ups for claimers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects, jobs, queries, retry, wakeup
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.jobs import EventType, Job, JobStatus
from scrapeyard.queue.tables import job_dependencies, job_events
from scrapeyard.queue.tables import jobs as jobs_table

UNFINISHED = [str(s) for s in jobs.UNFINISHED_STATUSES]
FINISHED = [str(s) for s in jobs.FINISHED_STATUSES]
RUNNING = str(JobStatus.RUNNING)
QUEUED = str(JobStatus.QUEUED)
SCHEDULED = str(JobStatus.SCHEDULED)
WAITING = str(JobStatus.WAITING)

# Computed in the database, from its clock: an explicit run_at, or now plus a delay.
INSERT_TIMES = {
    "run_at": sa.func.coalesce(
        sa.bindparam("explicit_run_at", type_=dialects.Timestamp()),
        seconds_from_now(sa.bindparam("delay_s", type_=sa.Float())),
    ),
    "created_at": now(),
    "updated_at": now(),
}
_INSERT_EVENT = sa.insert(job_events).values(at=now())


@dataclass(frozen=True)
class JobDefaults:
    """Values for what a ``JobSpec`` leaves out, from the configuration."""

    max_attempts: int = 3
    retry: retry.RetryPolicy = field(default_factory=retry.RetryPolicy)
    lease_duration: float = 30.0


def event(
    job_id: int,
    type_: EventType,
    attempt: int,
    worker: str | None = None,
    message: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "type": str(type_),
        "attempt": attempt,
        "worker": worker,
        "message": message,
        "data": data,
    }


def error_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    message = str(error.get("message") or "")
    return f"{kind}: {message}" if kind and message else str(kind or message)


def unmet_dependencies() -> sa.Exists:
    """True for a job (``jobs`` row in the outer query) with a dependency not yet succeeded."""
    other = job_dependencies.alias("other")
    blocker = jobs_table.alias("blocker")
    return sa.exists().where(
        other.c.job_id == jobs_table.c.id,
        blocker.c.id == other.c.depends_on,
        blocker.c.status != str(JobStatus.SUCCEEDED),
    )


class StoreBase(queries.JobQueries):
    """The state and helpers the store's parts share (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        *,
        kinds: jobs.KindCatalog | None = None,
        defaults: JobDefaults | None = None,
        wakeup_signal: wakeup.Wakeup | None = None,
    ) -> None:
        super().__init__(db)
        self.kinds = kinds
        self.defaults = defaults or JobDefaults()
        self.wakeup = wakeup_signal or wakeup.Wakeup()
        self._dialect = db.engine.dialect.name
        self._insert_unique = (
            dialects.insert_unless_unique_key_taken(self._dialect, jobs_table)
            .values(**INSERT_TIMES)
            .returning(*jobs_table.c)
        )

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction to pass as ``conn=`` to transitions, with your own writes."""
        async with self._write(None) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _write(
        self, conn: AsyncConnection | None, *, durable: bool = True
    ) -> AsyncIterator[AsyncConnection]:
        """``conn`` if the caller has a transaction going, else a new one.

        ``durable=False`` is for transitions a lost commit would merely repeat (see
        ``Database.write``).
        """
        if conn is not None:
            yield conn
            return
        async with self.db.write(durable=durable) as new_conn:
            yield new_conn

    async def _record(self, conn: AsyncConnection, events: list[dict[str, Any]]) -> None:
        if events:
            await conn.execute(_INSERT_EVENT, events)

    async def _record_for(
        self, conn: AsyncConnection, type_: EventType, job_ids: Sequence[int]
    ) -> None:
        """One event per job, from the jobs' own rows (attempt and lease owner)."""
        if not job_ids:
            return
        source = sa.select(
            jobs_table.c.id,
            sa.literal(str(type_)),
            now(),
            jobs_table.c.attempts,
            jobs_table.c.lease_owner,
        ).where(jobs_table.c.id.in_(list(job_ids)))
        await conn.execute(
            sa.insert(job_events).from_select(["job_id", "type", "at", "attempt", "worker"], source)
        )

    async def _notify(self, conn: AsyncConnection, queue_names: Collection[str]) -> None:
        """Tell other hosts' workers (PostgreSQL, on commit) and this process's."""
        if self._dialect == "postgresql":
            for name in sorted(set(queue_names)):
                await conn.execute(sa.select(sa.func.pg_notify(wakeup.CHANNEL, sa.literal(name))))
        for name in set(queue_names):
            self.wakeup.notify(name)

    async def _status(self, tx: AsyncConnection, job_id: int) -> str:
        status = await tx.scalar(sa.select(jobs_table.c.status).where(jobs_table.c.id == job_id))
        if status is None:
            raise errors.JobNotFound(job_id)
        return str(status)

    def _guarded(self, job: Job) -> sa.Update:
        """An UPDATE of ``job`` that only matches while this claim still holds it."""
        return sa.update(jobs_table).where(
            jobs_table.c.id == job.id,
            jobs_table.c.status == RUNNING,
            jobs_table.c.lease_token == job.lease_token,
        )

    # -- dependencies ------------------------------------------------------------------

    async def _unblock_dependents(self, tx: AsyncConnection, succeeded: Sequence[int]) -> None:
        """Make ready the waiting jobs whose every dependency has now succeeded."""
        if not succeeded:
            return
        deps = job_dependencies
        stmt = (
            sa.update(jobs_table)
            .where(
                jobs_table.c.status == WAITING,
                jobs_table.c.id.in_(
                    sa.select(deps.c.job_id).where(deps.c.depends_on.in_(list(succeeded)))
                ),
                ~unmet_dependencies(),
            )
            .values(
                status=sa.case((jobs_table.c.run_at > now(), SCHEDULED), else_=QUEUED),
                updated_at=now(),
            )
            .returning(jobs_table.c.id, jobs_table.c.queue)
        )
        ready = (await tx.execute(stmt)).all()
        if ready:
            await self._record(tx, [event(row.id, EventType.UNBLOCKED, 0) for row in ready])
            await self._notify(tx, {row.queue for row in ready})

    async def _cancel_dependents(
        self, tx: AsyncConnection, ended: Sequence[int], how: str = "failed"
    ) -> None:
        """Cancel the waiting jobs that depend on ``ended`` jobs, and theirs, with why."""
        deps = job_dependencies
        frontier = list(ended)
        while frontier:
            reason = (
                f"job {frontier[0]} it depends on {how}"
                if len(frontier) == 1
                else f"jobs {', '.join(map(str, frontier))} it depends on {how}"
            )
            error = {"type": "DependencyFailed", "message": reason}
            stmt = (
                sa.update(jobs_table)
                .where(
                    jobs_table.c.status == WAITING,
                    jobs_table.c.id.in_(
                        sa.select(deps.c.job_id).where(deps.c.depends_on.in_(frontier))
                    ),
                )
                .values(
                    status=str(JobStatus.CANCELLED),
                    error=sa.literal(error, dialects.JSON),
                    finished_at=now(),
                    updated_at=now(),
                )
                .returning(jobs_table.c.id)
            )
            frontier = list((await tx.execute(stmt)).scalars().all())
            await self._record(
                tx, [event(job_id, EventType.CANCELLED, 0, message=reason) for job_id in frontier]
            )
            how = "was cancelled"
