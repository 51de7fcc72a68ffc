"""What operators do to jobs and queues: cancel, retry, move, delete, pause."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects, jobs
from scrapeyard.queue.base import RUNNING, WAITING, StoreBase, event, unmet_dependencies
from scrapeyard.queue.dialects import now
from scrapeyard.queue.jobs import EventType, Job, JobStatus
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.tables import queues

_NOT_STARTED = [str(status) for status in jobs.READY_STATUSES] + [WAITING]


class Operations(StoreBase):
    """Operator actions on jobs and queues."""

    async def cancel(self, job_id: int, *, reason: str | None = None) -> Job:
        """Cancel a job: a waiting one at once; a running one is flagged for its worker.

        The worker learns of the flag within one heartbeat, stops the job and confirms.
        Jobs waiting for this one are cancelled with it. Cancelling a finished job
        raises ``InvalidTransition``.
        """
        at_once = (
            sa.update(jobs_table)
            .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(_NOT_STARTED))
            .values(status=str(JobStatus.CANCELLED), finished_at=now(), updated_at=now())
            .returning(*jobs_table.c)
        )
        flag = (
            sa.update(jobs_table)
            .where(jobs_table.c.id == job_id, jobs_table.c.status == RUNNING)
            .values(cancel_requested=True, updated_at=now())
            .returning(*jobs_table.c)
        )
        async with self._write(None) as tx:
            row = (await tx.execute(at_once)).mappings().one_or_none()
            if row is not None:
                job = Job.from_row(row)
                await self._record(
                    tx, [event(job_id, EventType.CANCELLED, job.attempts, message=reason)]
                )
                await self._cancel_dependents(tx, [job_id], "was cancelled")
                return job
            was_requested = await self._scalar_cancel_requested(tx, job_id)
            row = (await tx.execute(flag)).mappings().one_or_none()
            if row is not None:
                job = Job.from_row(row)
                if not was_requested:
                    await self._record(
                        tx,
                        [
                            event(
                                job_id,
                                EventType.CANCEL_REQUESTED,
                                job.attempts,
                                job.lease_owner,
                                reason,
                            )
                        ],
                    )
                return job
            current = await self._status(tx, job_id)
        raise errors.InvalidTransition(job_id, current, "cancel")

    async def retry(self, job_id: int) -> Job:
        """Queue a failed or cancelled job again, with its attempts reset.

        A job whose dependencies have not all succeeded waits for them again.
        """
        stmt = (
            sa.update(jobs_table)
            .where(
                jobs_table.c.id == job_id,
                jobs_table.c.status.in_((str(JobStatus.FAILED), str(JobStatus.CANCELLED))),
            )
            .values(
                status=sa.case((unmet_dependencies(), WAITING), else_=str(JobStatus.QUEUED)),
                attempts=0,
                run_at=now(),
                cancel_requested=False,
                lease_owner=None,
                lease_token=None,
                lease_expires_at=None,
                result=None,
                finished_at=None,
                updated_at=now(),
            )
            .returning(*jobs_table.c)
        )
        try:
            async with self._write(None) as tx:
                row = (await tx.execute(stmt)).mappings().one_or_none()
                if row is None:
                    current = await self._status(tx, job_id)
                    raise errors.InvalidTransition(job_id, current, "retry")
                job = Job.from_row(row)
                await self._record(tx, [event(job_id, EventType.RETRIED, 0)])
                await self._notify(tx, [job.queue])
        except sa.exc.IntegrityError:
            raise errors.InvalidTransition(
                job_id, "failed or cancelled", "retry (another unfinished job holds its unique_key)"
            ) from None
        return job

    async def move(self, job_id: int, queue_name: str) -> Job:
        """Move a job that has not started (waiting, scheduled, queued) to another queue."""
        jobs.validate_name("queue", queue_name)
        stmt = (
            sa.update(jobs_table)
            .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(_NOT_STARTED))
            .values(queue=queue_name, updated_at=now())
            .returning(*jobs_table.c)
        )
        async with self._write(None) as tx:
            row = (await tx.execute(stmt)).mappings().one_or_none()
            if row is None:
                current = await self._status(tx, job_id)
                raise errors.InvalidTransition(job_id, current, "move")
            await self._notify(tx, [queue_name])
        return Job.from_row(row)

    async def delete(self, job_id: int) -> None:
        """Delete a job and its history. A running job must be cancelled first."""
        stmt = (
            sa.delete(jobs_table)
            .where(jobs_table.c.id == job_id, jobs_table.c.status != RUNNING)
            .returning(jobs_table.c.id)
        )
        async with self._write(None) as tx:
            # Its events go with it: ON DELETE CASCADE.
            if (await tx.execute(stmt)).one_or_none() is None:
                current = await self._status(tx, job_id)
                raise errors.InvalidTransition(job_id, current, "delete")

    async def set_paused(self, queue_name: str, paused: bool) -> None:
        """Pause or resume a queue: workers claim nothing from a paused queue."""
        jobs.validate_name("queue", queue_name)
        stmt = dialects.upsert_queue(self._dialect, queues, queue_name, paused=paused)
        async with self._write(None) as tx:
            await tx.execute(stmt)
            if not paused:
                await self._notify(tx, [queue_name])

    async def _scalar_cancel_requested(self, tx: AsyncConnection, job_id: int) -> bool:
        value = await tx.scalar(
            sa.select(jobs_table.c.cancel_requested).where(jobs_table.c.id == job_id)
        )
        return bool(value)
