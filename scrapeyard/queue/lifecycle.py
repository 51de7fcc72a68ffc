"""A claimed job's life: claim, heartbeat, complete, fail, hand back, cancel, progress.

Every statement about a running job is guarded by its status and the lease token of
the claim acting on it, so a worker that lost its lease changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects
from scrapeyard.queue.base import RUNNING, StoreBase, error_message, event
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.jobs import EventType, Job, JobStatus
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.tables import queues

_SET_RESULT = (
    sa.update(jobs_table)
    .where(jobs_table.c.id == sa.bindparam("b_id"))
    .values(result=sa.bindparam("b_result", type_=dialects.JSON))
)


@dataclass(frozen=True)
class Lease:
    """A running job as a heartbeat sees it."""

    token: str
    cancel_requested: bool


class Lifecycle(StoreBase):
    """Transitions of claimed jobs, as their workers report them."""

    async def claim(
        self,
        worker: str,
        queue_names: Sequence[str],
        limit: int = 1,
        *,
        lease: float | None = None,
    ) -> list[Job]:
        """Atomically take up to ``limit`` ready jobs for ``worker`` and lease them.

        Jobs come highest priority first, then earliest ``run_at``, then oldest. Each
        claim counts an attempt. One lease token covers the jobs of one claim.
        """
        if limit < 1 or not queue_names:
            return []
        token = uuid.uuid4().hex
        stmt = dialects.claim_statement(
            self._dialect,
            jobs_table,
            queues,
            queue_names=queue_names,
            limit=limit,
            values={
                "status": RUNNING,
                "attempts": jobs_table.c.attempts + 1,
                "lease_owner": worker,
                "lease_token": token,
                "lease_expires_at": seconds_from_now(lease or self.defaults.lease_duration),
                "started_at": now(),
                "updated_at": now(),
            },
        )
        async with self._write(None, durable=False) as tx:
            rows = (await tx.execute(stmt)).mappings().all()
            claimed = sorted(
                (Job.from_row(row) for row in rows),
                key=lambda job: (-job.priority, job.run_at, job.id),
            )
            await self._record_for(tx, EventType.STARTED, [job.id for job in claimed])
        return claimed

    async def heartbeat(self, worker: str, *, lease: float | None = None) -> dict[int, Lease]:
        """Extend the leases of every job ``worker`` runs; what it still holds.

        A job the worker thinks it runs but that is missing here, or whose token
        differs, was taken from it: stop working on it. ``cancel_requested`` tells the
        worker to cancel that job.
        """
        stmt = (
            sa.update(jobs_table)
            .where(jobs_table.c.status == RUNNING, jobs_table.c.lease_owner == worker)
            .values(lease_expires_at=seconds_from_now(lease or self.defaults.lease_duration))
            .returning(jobs_table.c.id, jobs_table.c.lease_token, jobs_table.c.cancel_requested)
        )
        async with self._write(None, durable=False) as tx:
            rows = (await tx.execute(stmt)).all()
        return {row.id: Lease(row.lease_token, bool(row.cancel_requested)) for row in rows}

    async def complete(
        self, job: Job, result: Any = None, *, conn: AsyncConnection | None = None
    ) -> None:
        """Mark ``job`` succeeded with ``result``; ``LeaseLost`` if it is no longer ours."""
        refused = await self.complete_many([(job, result)], conn=conn)
        if refused:
            raise errors.LeaseLost(job.id)

    async def complete_many(
        self, done: Sequence[tuple[Job, Any]], *, conn: AsyncConnection | None = None
    ) -> list[int]:
        """Mark many jobs succeeded in one transaction; the ids refused as not ours."""
        if not done:
            return []
        ours = sa.tuple_(jobs_table.c.id, jobs_table.c.lease_token).in_(
            [(job.id, job.lease_token) for job, _ in done]
        )
        finish = (
            sa.update(jobs_table)
            .where(ours, jobs_table.c.status == RUNNING)
            .values(
                status=str(JobStatus.SUCCEEDED),
                lease_expires_at=None,
                finished_at=now(),
                updated_at=now(),
            )
            .returning(jobs_table.c.id)
        )
        async with self._write(conn, durable=False) as tx:
            succeeded = set((await tx.execute(finish)).scalars())
            results = [
                {"b_id": job.id, "b_result": result}
                for job, result in done
                if result is not None and job.id in succeeded
            ]
            if results:
                await tx.execute(_SET_RESULT, results)
            await self._record_for(tx, EventType.SUCCEEDED, sorted(succeeded))
            await self._unblock_dependents(tx, sorted(succeeded))
        return [job.id for job, _ in done if job.id not in succeeded]

    async def fail(
        self,
        job: Job,
        error: Mapping[str, Any],
        *,
        retry_in: float | None = None,
        permanent: bool = False,
        conn: AsyncConnection | None = None,
    ) -> JobStatus:
        """Record a failed attempt; retry after backoff unless permanent or out of attempts.

        ``error`` is ``{"type", "message", "traceback"?}``. ``retry_in`` overrides the
        backoff (a handler's ``RetryLater``). Returns the job's new status.
        """
        final = permanent or job.attempts >= job.max_attempts
        stored_error = {**error, "attempt": job.attempts}
        if final:
            values: dict[str, Any] = {
                "status": str(JobStatus.FAILED),
                "finished_at": now(),
            }
            entry = event(
                job.id, EventType.FAILED, job.attempts, job.lease_owner, error_message(error)
            )
            new_status = JobStatus.FAILED
        else:
            delay = job.retry.delay(job.attempts) if retry_in is None else retry_in
            new_status = JobStatus.SCHEDULED if delay > 0 else JobStatus.QUEUED
            values = {"status": str(new_status), "run_at": seconds_from_now(delay)}
            entry = event(
                job.id,
                EventType.RETRY_SCHEDULED,
                job.attempts,
                job.lease_owner,
                error_message(error),
                {"delay": round(delay, 3)},
            )
        stmt = (
            self._guarded(job)
            .values(
                **values,
                error=stored_error,
                lease_expires_at=None,
                cancel_requested=False,
                updated_at=now(),
            )
            .returning(jobs_table.c.id)
        )
        async with self._write(conn, durable=False) as tx:
            if (await tx.execute(stmt)).one_or_none() is None:
                raise errors.LeaseLost(job.id)
            await self._record(tx, [entry])
            if new_status is JobStatus.FAILED:
                await self._cancel_dependents(tx, [job.id], "failed")
            if new_status is JobStatus.QUEUED:
                await self._notify(tx, [job.queue])
        return new_status

    async def release(self, job: Job, *, conn: AsyncConnection | None = None) -> None:
        """Hand a running job back to the queue without counting its attempt (shutdown)."""
        stmt = (
            self._guarded(job)
            .values(
                status=str(JobStatus.QUEUED),
                attempts=jobs_table.c.attempts - 1,
                run_at=now(),
                lease_owner=None,
                lease_token=None,
                lease_expires_at=None,
                updated_at=now(),
            )
            .returning(jobs_table.c.id)
        )
        async with self._write(conn, durable=False) as tx:
            if (await tx.execute(stmt)).one_or_none() is None:
                raise errors.LeaseLost(job.id)
            await self._record(
                tx, [event(job.id, EventType.RELEASED, job.attempts - 1, job.lease_owner)]
            )
            await self._notify(tx, [job.queue])

    async def confirm_cancelled(
        self, job: Job, *, message: str | None = None, conn: AsyncConnection | None = None
    ) -> None:
        """The worker stopped a running job whose cancellation was requested."""
        stmt = (
            self._guarded(job)
            .values(
                status=str(JobStatus.CANCELLED),
                lease_expires_at=None,
                finished_at=now(),
                updated_at=now(),
            )
            .returning(jobs_table.c.id)
        )
        async with self._write(conn, durable=False) as tx:
            if (await tx.execute(stmt)).one_or_none() is None:
                raise errors.LeaseLost(job.id)
            await self._record(
                tx, [event(job.id, EventType.CANCELLED, job.attempts, job.lease_owner, message)]
            )
            await self._cancel_dependents(tx, [job.id], "was cancelled")

    async def set_progress(
        self, job: Job, progress: Mapping[str, Any], *, conn: AsyncConnection | None = None
    ) -> None:
        """Store a running job's progress (the worker throttles how often)."""
        stmt = (
            self._guarded(job)
            .values(progress=dict(progress), updated_at=now())
            .returning(jobs_table.c.id)
        )
        async with self._write(conn, durable=False) as tx:
            if (await tx.execute(stmt)).one_or_none() is None:
                raise errors.LeaseLost(job.id)
