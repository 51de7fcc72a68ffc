"""Housekeeping: rescue jobs of dead workers, promote due jobs, purge old ones."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from scrapeyard.queue import dialects
from scrapeyard.queue.base import FINISHED, RUNNING, StoreBase, error_message, event
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.jobs import EventType, JobStatus
from scrapeyard.queue.tables import jobs as jobs_table


@dataclass(frozen=True)
class RescueReport:
    """What one pass of ``rescue_expired`` did."""

    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.requeued) + len(self.failed) + len(self.cancelled)


class Housekeeping(StoreBase):
    """Timed maintenance of the jobs table (see worker/maintenance.py)."""

    async def rescue_expired(self, *, spare: str | None = None) -> RescueReport:
        """Take back running jobs whose lease expired (their worker died or hung).

        A job with attempts left goes back to ``queued`` (the lost attempt counts); one
        that used them all fails, so a job that kills its worker every time ends
        visibly instead of looping; one whose cancellation was requested is cancelled.
        ``spare`` is the calling worker's id: its own jobs are alive however late their
        renewal (on SQLite a long write elsewhere can hold a heartbeat back past the
        lease), and a hung one is ended by its timeout instead.
        """
        lost = {
            "type": "LeaseExpired",
            "message": "the worker running this job stopped renewing its lease",
        }
        common = {"lease_expires_at": None, "updated_at": now()}
        returning = (
            jobs_table.c.id,
            jobs_table.c.attempts,
            jobs_table.c.max_attempts,
            jobs_table.c.lease_owner,
            jobs_table.c.queue,
        )
        async with self._write(None, durable=False) as tx:
            # One instant for the three statements: SQLite reads the clock per statement,
            # and a lease running out between them sent a job whose cancellation was
            # requested (or whose attempts were used up) back to the queue.
            at = (await tx.execute(sa.select(now()))).scalar_one()
            expired = sa.and_(
                jobs_table.c.status == RUNNING,
                jobs_table.c.lease_expires_at < sa.literal(at, dialects.Timestamp()),
            )
            if spare is not None:
                expired = sa.and_(expired, jobs_table.c.lease_owner != spare)
            cancelled = (
                await tx.execute(
                    sa.update(jobs_table)
                    .where(expired, jobs_table.c.cancel_requested.is_(True))
                    .values(status=str(JobStatus.CANCELLED), finished_at=now(), **common)
                    .returning(*returning)
                )
            ).all()
            failed = (
                await tx.execute(
                    sa.update(jobs_table)
                    .where(expired, jobs_table.c.attempts >= jobs_table.c.max_attempts)
                    .values(
                        status=str(JobStatus.FAILED),
                        finished_at=now(),
                        error=sa.literal(lost, dialects.JSON),
                        **common,
                    )
                    .returning(*returning)
                )
            ).all()
            requeued = (
                await tx.execute(
                    sa.update(jobs_table)
                    .where(expired)
                    .values(
                        status=str(JobStatus.QUEUED),
                        run_at=now(),
                        error=sa.literal(lost, dialects.JSON),
                        lease_owner=None,
                        lease_token=None,
                        **common,
                    )
                    .returning(*returning)
                )
            ).all()
            message = error_message(lost)
            events = [
                event(r.id, EventType.CANCELLED, r.attempts, r.lease_owner, message)
                for r in cancelled
            ]
            events += [
                event(
                    r.id,
                    EventType.FAILED,
                    r.attempts,
                    r.lease_owner,
                    f"{message}; all {r.max_attempts} attempts used",
                )
                for r in failed
            ]
            events += [
                event(r.id, EventType.RESCUED, r.attempts, r.lease_owner, message) for r in requeued
            ]
            await self._record(tx, events)
            await self._cancel_dependents(tx, [r.id for r in failed], "failed")
            await self._cancel_dependents(tx, [r.id for r in cancelled], "was cancelled")
            if requeued:
                await self._notify(tx, {r.queue for r in requeued})
        return RescueReport(
            requeued=[r.id for r in requeued],
            failed=[r.id for r in failed],
            cancelled=[r.id for r in cancelled],
        )

    async def promote_scheduled(self) -> int:
        """Mark scheduled jobs whose time has come as queued; how many.

        Claims take due scheduled jobs directly, so this only keeps the status honest
        for people looking at the queue.
        """
        stmt = (
            sa.update(jobs_table)
            .where(jobs_table.c.status == str(JobStatus.SCHEDULED), jobs_table.c.run_at <= now())
            .values(status=str(JobStatus.QUEUED), updated_at=now())
            .returning(jobs_table.c.queue)
        )
        async with self._write(None, durable=False) as tx:
            promoted = (await tx.execute(stmt)).scalars().all()
            if promoted:
                await self._notify(tx, set(promoted))
        return len(promoted)

    async def purge_finished(self, older_than: float, *, batch: int = 5000) -> int:
        """Delete jobs that finished more than ``older_than`` seconds ago, with history.

        Works in batches of ``batch`` jobs, one short transaction each, so a large purge
        never holds the write lock for long. Events go with their job (ON DELETE CASCADE).
        """
        doomed = (
            sa.select(jobs_table.c.id)
            .where(
                jobs_table.c.status.in_(FINISHED),
                jobs_table.c.finished_at < seconds_from_now(-older_than),
            )
            .limit(batch)
        )
        stmt = sa.delete(jobs_table).where(jobs_table.c.id.in_(doomed.scalar_subquery()))
        total = 0
        while True:
            async with self._write(None) as tx:
                deleted = (await tx.execute(stmt.returning(jobs_table.c.id))).all()
            total += len(deleted)
            if len(deleted) < batch:
                return total
