"""The job store: every state transition of a job, each one guarded SQL statement.

A transition's ``UPDATE`` names the status it expects and, for a running job, the lease
token of the claim that is acting on it (``WHERE status = 'running' AND lease_token =
:token``). A worker whose lease expired, and whose job was rescued and claimed again,
therefore changes nothing: its ``complete`` or ``fail`` finds no row and raises
``LeaseLost``. That is the fencing that makes at-least-once delivery safe.

Methods that a job's own writes must commit with (``complete``, ``fail``, ``release``,
``enqueue``...) accept ``conn=``: pass the connection of ``transaction()`` and the
transition commits or rolls back together with the caller's writes.

Read-side queries (get, list, counts, history) live in ``queries.py``; ``JobStore``
inherits them, so one object serves both.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects, jobs, queries, retry, wakeup
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.jobs import EventType, Job, JobSpec, JobStatus
from scrapeyard.queue.tables import job_events, queues
from scrapeyard.queue.tables import jobs as jobs_table

_UNFINISHED = [str(s) for s in jobs.UNFINISHED_STATUSES]
_FINISHED = [str(s) for s in jobs.FINISHED_STATUSES]
_RUNNING = str(JobStatus.RUNNING)
_QUEUED = str(JobStatus.QUEUED)
_SCHEDULED = str(JobStatus.SCHEDULED)

# Computed in the database, from its clock: an explicit run_at, or now plus a delay.
_INSERT_TIMES = {
    "run_at": sa.func.coalesce(
        sa.bindparam("explicit_run_at", type_=dialects.Timestamp()),
        seconds_from_now(sa.bindparam("delay_s", type_=sa.Float())),
    ),
    "created_at": now(),
    "updated_at": now(),
}
_INSERT_JOB = sa.insert(jobs_table).values(**_INSERT_TIMES)
_INSERT_EVENT = sa.insert(job_events).values(at=now())
_SET_RESULT = (
    sa.update(jobs_table)
    .where(jobs_table.c.id == sa.bindparam("b_id"))
    .values(result=sa.bindparam("b_result", type_=dialects.JSON))
)
_EVENT_KEYS = ("job_id", "type", "attempt", "worker", "message", "data")


@dataclass(frozen=True)
class JobDefaults:
    """Values for what a ``JobSpec`` leaves out, from the configuration."""

    max_attempts: int = 3
    retry: retry.RetryPolicy = field(default_factory=retry.RetryPolicy)
    lease_duration: float = 30.0


@dataclass(frozen=True)
class Lease:
    """A running job as a heartbeat sees it."""

    token: str
    cancel_requested: bool


@dataclass(frozen=True)
class RescueReport:
    """What one pass of ``rescue_expired`` did."""

    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.requeued) + len(self.failed) + len(self.cancelled)


def _event(
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


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _error_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    message = str(error.get("message") or "")
    return f"{kind}: {message}" if kind and message else str(kind or message)


class JobStore(queries.JobQueries):
    """Every job operation on one ``Database``: the reads of ``JobQueries``, plus transitions.

    ``kinds``, when given, is the catalogue of registered job kinds: enqueueing any
    other kind is refused, and a kind's defaults fill what a ``JobSpec`` leaves out.
    ``wakeup_signal`` is signalled after jobs become ready, so claim loops in this
    process wake at once.
    """

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
            .values(**_INSERT_TIMES)
            .returning(*jobs_table.c)
        )

    # -- transactions ------------------------------------------------------------------

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

    # -- enqueue -----------------------------------------------------------------------

    def _row(self, spec: JobSpec) -> dict[str, Any]:
        kind = jobs.KindDefaults()
        if self.kinds is not None:
            if spec.kind not in self.kinds:
                raise errors.UnknownKind(spec.kind, list(self.kinds))
            kind = self.kinds.defaults(spec.kind)
            self.kinds.validate(spec.kind, spec.payload)
        payload = dict(spec.payload)
        try:
            encoded = orjson.dumps(payload)
            size = len(encoded)
        except TypeError as exc:
            raise errors.InvalidInput("payload", f"is not JSON-serialisable: {exc}") from None
        if b"\\u0000" in encoded and _has_nul(payload):
            # PostgreSQL cannot store NUL in text or JSON; refuse it on every backend.
            raise errors.InvalidInput("payload", "must not contain NUL characters (\\u0000)")
        if size > jobs.MAX_PAYLOAD_BYTES:
            raise errors.InvalidInput(
                "payload", f"is {size:,} bytes; the limit is {jobs.MAX_PAYLOAD_BYTES:,}"
            )
        delay = spec.delay or 0.0
        ready = delay == 0 and (spec.run_at is None or spec.run_at <= datetime.now(UTC))
        priority = spec.priority if spec.priority is not None else kind.priority
        return {
            "kind": spec.kind,
            "queue": spec.queue or kind.queue or "default",
            "payload": payload,
            "priority": priority or 0,
            "status": _QUEUED if ready else _SCHEDULED,
            "explicit_run_at": spec.run_at,
            "delay_s": delay,
            "attempts": 0,
            "max_attempts": spec.max_attempts or kind.max_attempts or self.defaults.max_attempts,
            "retry": (spec.retry or self.defaults.retry).to_json(),
            "timeout": spec.timeout if spec.timeout is not None else kind.timeout,
            "unique_key": spec.unique_key,
            "cancel_requested": False,
        }

    async def enqueue(self, spec: JobSpec, *, conn: AsyncConnection | None = None) -> Job:
        """Add one job. With a ``unique_key`` held by an unfinished job, return that job."""
        row = self._row(spec)
        async with self._write(conn) as tx:
            if spec.unique_key is None:
                result = await tx.execute(_INSERT_JOB.returning(*jobs_table.c), row)
                job = Job.from_row(result.mappings().one())
            else:
                job, created = await self._enqueue_unique(tx, row)
                if not created:
                    return job
            await self._record(tx, [_event(job.id, EventType.ENQUEUED, 0)])
            await self._notify(tx, [job.queue])
        return job

    async def _enqueue_unique(self, tx: AsyncConnection, row: dict[str, Any]) -> tuple[Job, bool]:
        """The job inserted, or the unfinished one holding the key; True if inserted."""
        # The holder of the key may finish between our INSERT and SELECT; try again then.
        for _ in range(5):
            inserted = (await tx.execute(self._insert_unique, row)).mappings().one_or_none()
            if inserted is not None:
                return Job.from_row(inserted), True
            existing = (
                (
                    await tx.execute(
                        sa.select(jobs_table).where(
                            jobs_table.c.unique_key == row["unique_key"],
                            jobs_table.c.status.in_(_UNFINISHED),
                        )
                    )
                )
                .mappings()
                .one_or_none()
            )
            if existing is not None:
                return Job.from_row(existing), False
        raise errors.QueueError(f"unique_key {row['unique_key']!r} is changing hands too fast")

    async def enqueue_many(
        self, specs: Sequence[JobSpec], *, conn: AsyncConnection | None = None
    ) -> list[int]:
        """Add many jobs in one transaction; the ids, in the order of ``specs``.

        Every spec is validated before anything is written, so one bad spec refuses
        the whole batch and nothing is half-enqueued. Specs with a ``unique_key`` that
        an unfinished job holds yield that job's id.
        """
        rows = [self._row(spec) for spec in specs]
        ids: list[int] = [0] * len(rows)
        plain = [i for i, row in enumerate(rows) if row["unique_key"] is None]
        keyed = [i for i, row in enumerate(rows) if row["unique_key"] is not None]
        new_ids: list[int] = []
        async with self._write(conn) as tx:
            if plain and self._dialect == "postgresql":
                # One statement for the whole batch, its events included.
                stmt, params = dialects.postgres_bulk_enqueue([rows[i] for i in plain])
                inserted = (await tx.execute(stmt, params)).scalars().all()
                for i, job_id in zip(plain, inserted, strict=True):
                    ids[i] = job_id
            elif plain:
                result = await tx.execute(
                    _INSERT_JOB.returning(jobs_table.c.id, sort_by_parameter_order=True),
                    [rows[i] for i in plain],
                )
                for i, (job_id,) in zip(plain, result.all(), strict=True):
                    ids[i] = job_id
                    new_ids.append(job_id)
            for i in keyed:
                job, created = await self._enqueue_unique(tx, rows[i])
                ids[i] = job.id
                if created:
                    new_ids.append(job.id)
            await self._record(tx, [_event(i, EventType.ENQUEUED, 0) for i in new_ids])
            await self._notify(tx, {row["queue"] for row in rows})
        return ids

    # -- the worker's side: claim, heartbeat, finish ---------------------------------

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
                "status": _RUNNING,
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
            .where(jobs_table.c.status == _RUNNING, jobs_table.c.lease_owner == worker)
            .values(lease_expires_at=seconds_from_now(lease or self.defaults.lease_duration))
            .returning(jobs_table.c.id, jobs_table.c.lease_token, jobs_table.c.cancel_requested)
        )
        async with self._write(None, durable=False) as tx:
            rows = (await tx.execute(stmt)).all()
        return {row.id: Lease(row.lease_token, bool(row.cancel_requested)) for row in rows}

    def _guarded(self, job: Job) -> sa.Update:
        """An UPDATE of ``job`` that only matches while this claim still holds it."""
        return sa.update(jobs_table).where(
            jobs_table.c.id == job.id,
            jobs_table.c.status == _RUNNING,
            jobs_table.c.lease_token == job.lease_token,
        )

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
            .where(ours, jobs_table.c.status == _RUNNING)
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
            event = _event(
                job.id, EventType.FAILED, job.attempts, job.lease_owner, _error_message(error)
            )
            new_status = JobStatus.FAILED
        else:
            delay = job.retry.delay(job.attempts) if retry_in is None else retry_in
            new_status = JobStatus.SCHEDULED if delay > 0 else JobStatus.QUEUED
            values = {"status": str(new_status), "run_at": seconds_from_now(delay)}
            event = _event(
                job.id,
                EventType.RETRY_SCHEDULED,
                job.attempts,
                job.lease_owner,
                _error_message(error),
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
            await self._record(tx, [event])
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
                tx, [_event(job.id, EventType.RELEASED, job.attempts - 1, job.lease_owner)]
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
                tx, [_event(job.id, EventType.CANCELLED, job.attempts, job.lease_owner, message)]
            )

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

    # -- operator actions: cancel, retry, delete, pause ------------------------------

    async def cancel(self, job_id: int, *, reason: str | None = None) -> Job:
        """Cancel a job: a waiting one at once; a running one is flagged for its worker.

        The worker learns of the flag within one heartbeat, stops the job and confirms.
        Cancelling a finished job raises ``InvalidTransition``.
        """
        at_once = (
            sa.update(jobs_table)
            .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(jobs.READY_STATUSES))
            .values(status=str(JobStatus.CANCELLED), finished_at=now(), updated_at=now())
            .returning(*jobs_table.c)
        )
        flag = (
            sa.update(jobs_table)
            .where(jobs_table.c.id == job_id, jobs_table.c.status == _RUNNING)
            .values(cancel_requested=True, updated_at=now())
            .returning(*jobs_table.c)
        )
        async with self._write(None) as tx:
            row = (await tx.execute(at_once)).mappings().one_or_none()
            if row is not None:
                job = Job.from_row(row)
                await self._record(
                    tx, [_event(job_id, EventType.CANCELLED, job.attempts, message=reason)]
                )
                return job
            was_requested = await self._scalar_cancel_requested(tx, job_id)
            row = (await tx.execute(flag)).mappings().one_or_none()
            if row is not None:
                job = Job.from_row(row)
                if not was_requested:
                    await self._record(
                        tx,
                        [
                            _event(
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
        """Queue a failed or cancelled job again, with its attempts reset."""
        stmt = (
            sa.update(jobs_table)
            .where(
                jobs_table.c.id == job_id,
                jobs_table.c.status.in_((str(JobStatus.FAILED), str(JobStatus.CANCELLED))),
            )
            .values(
                status=str(JobStatus.QUEUED),
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
                await self._record(tx, [_event(job_id, EventType.RETRIED, 0)])
                await self._notify(tx, [job.queue])
        except sa.exc.IntegrityError:
            raise errors.InvalidTransition(
                job_id, "failed or cancelled", "retry (another unfinished job holds its unique_key)"
            ) from None
        return job

    async def move(self, job_id: int, queue_name: str) -> Job:
        """Move a waiting (scheduled or queued) job to another queue."""
        jobs.validate_name("queue", queue_name)
        stmt = (
            sa.update(jobs_table)
            .where(jobs_table.c.id == job_id, jobs_table.c.status.in_(jobs.READY_STATUSES))
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
            .where(jobs_table.c.id == job_id, jobs_table.c.status != _RUNNING)
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

    async def _status(self, tx: AsyncConnection, job_id: int) -> str:
        status = await tx.scalar(sa.select(jobs_table.c.status).where(jobs_table.c.id == job_id))
        if status is None:
            raise errors.JobNotFound(job_id)
        return str(status)

    async def _scalar_cancel_requested(self, tx: AsyncConnection, job_id: int) -> bool:
        value = await tx.scalar(
            sa.select(jobs_table.c.cancel_requested).where(jobs_table.c.id == job_id)
        )
        return bool(value)

    # -- maintenance -------------------------------------------------------------------

    async def rescue_expired(self) -> RescueReport:
        """Take back running jobs whose lease expired (their worker died or hung).

        A job with attempts left goes back to ``queued`` (the lost attempt counts); one
        that used them all fails, so a job that kills its worker every time ends
        visibly instead of looping; one whose cancellation was requested is cancelled.
        """
        expired = sa.and_(jobs_table.c.status == _RUNNING, jobs_table.c.lease_expires_at < now())
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
            message = _error_message(lost)
            events = [
                _event(r.id, EventType.CANCELLED, r.attempts, r.lease_owner, message)
                for r in cancelled
            ]
            events += [
                _event(
                    r.id,
                    EventType.FAILED,
                    r.attempts,
                    r.lease_owner,
                    f"{message}; all {r.max_attempts} attempts used",
                )
                for r in failed
            ]
            events += [
                _event(r.id, EventType.RESCUED, r.attempts, r.lease_owner, message)
                for r in requeued
            ]
            await self._record(tx, events)
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
                jobs_table.c.status.in_(_FINISHED),
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
