"""Enqueueing: one job, many in one round trip, unique keys, dependencies and chains."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects, jobs
from scrapeyard.queue.base import (
    INSERT_TIMES,
    QUEUED,
    SCHEDULED,
    UNFINISHED,
    WAITING,
    StoreBase,
    event,
)
from scrapeyard.queue.jobs import EventType, Job, JobSpec, JobStatus
from scrapeyard.queue.tables import job_dependencies
from scrapeyard.queue.tables import jobs as jobs_table

_INSERT_JOB = sa.insert(jobs_table).values(**INSERT_TIMES)
MAX_CHAIN = 20
SUCCEEDED_STATUS = str(JobStatus.SUCCEEDED)
FAILED_STATUS = str(JobStatus.FAILED)
CANCELLED_STATUS = str(JobStatus.CANCELLED)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


class Enqueuing(StoreBase):
    """Adding jobs."""

    def _row(self, spec: JobSpec, *, chain_id: int | None = None) -> dict[str, Any]:
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
            "status": QUEUED if ready else SCHEDULED,
            "explicit_run_at": spec.run_at,
            "delay_s": delay,
            "attempts": 0,
            "max_attempts": spec.max_attempts or kind.max_attempts or self.defaults.max_attempts,
            "retry": (spec.retry or self.defaults.retry).to_json(),
            "timeout": spec.timeout if spec.timeout is not None else kind.timeout,
            "unique_key": spec.unique_key,
            "chain_id": chain_id,
            "cancel_requested": False,
        }

    def check(self, spec: JobSpec) -> None:
        """Raise ``InvalidInput`` if ``spec`` would be refused; write nothing.

        For templates kept to enqueue later, such as a schedule's.
        """
        self._row(spec)

    async def enqueue(self, spec: JobSpec, *, conn: AsyncConnection | None = None) -> Job:
        """Add one job. With a ``unique_key`` held by an unfinished job, return that job.

        With ``depends_on``, the job waits until those jobs succeed (status
        ``waiting``), and is cancelled if one of them fails for good.
        """
        row = self._row(spec)
        async with self._write(conn) as tx:
            job, created = await self._insert(tx, row, spec.depends_on)
            if created:
                await self._notify(tx, [job.queue])
        return job

    async def enqueue_chain(
        self, specs: Sequence[JobSpec], *, conn: AsyncConnection | None = None
    ) -> list[Job]:
        """Enqueue jobs that run one after the other: each waits for the one before it.

        They share a ``chain_id`` (the first job's id), so they can be shown as one unit.
        If one fails for good, the rest are cancelled with the reason. All are validated
        before any is written.
        """
        if not 2 <= len(specs) <= MAX_CHAIN:
            raise errors.InvalidInput("jobs", f"a chain has 2 to {MAX_CHAIN} jobs")
        for index, spec in enumerate(specs):
            try:
                self._row(spec)
            except errors.InvalidInput as exc:
                raise errors.InvalidInput(f"jobs[{index}].{exc.field}", exc.problem) from None
        chained: list[Job] = []
        async with self._write(conn) as tx:
            first, _ = await self._insert(tx, self._row(specs[0]), specs[0].depends_on)
            await tx.execute(
                sa.update(jobs_table).where(jobs_table.c.id == first.id).values(chain_id=first.id)
            )
            chained.append(dataclasses.replace(first, chain_id=first.id))
            for spec in specs[1:]:
                depends_on = (*spec.depends_on, chained[-1].id)
                job, _ = await self._insert(tx, self._row(spec, chain_id=first.id), depends_on)
                chained.append(job)
            await self._notify(tx, {job.queue for job in chained})
        return chained

    async def _insert(
        self, tx: AsyncConnection, row: dict[str, Any], depends_on: Sequence[int]
    ) -> tuple[Job, bool]:
        """Insert one job (or find the one holding its unique key); True if inserted."""
        if depends_on and not await self._dependencies_met(tx, depends_on):
            row = {**row, "status": WAITING}
        if row["unique_key"] is None:
            result = await tx.execute(_INSERT_JOB.returning(*jobs_table.c), row)
            job, created = Job.from_row(result.mappings().one()), True
        else:
            job, created = await self._enqueue_unique(tx, row)
        if created:
            if depends_on:
                await tx.execute(
                    sa.insert(job_dependencies),
                    [{"job_id": job.id, "depends_on": dep} for dep in dict.fromkeys(depends_on)],
                )
            await self._record(tx, [event(job.id, EventType.ENQUEUED, 0)])
        return job, created

    async def _dependencies_met(self, tx: AsyncConnection, depends_on: Sequence[int]) -> bool:
        """Whether every job in ``depends_on`` succeeded; refuses missing or dead ones.

        On PostgreSQL the rows are share-locked until this transaction ends, so a job
        cannot finish between this look and the new job's dependency rows being
        committed (which would leave the new job waiting for nothing).
        """
        stmt = sa.select(jobs_table.c.id, jobs_table.c.status).where(
            jobs_table.c.id.in_(list(depends_on))
        )
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update(read=True)
        statuses = {row.id: row.status for row in await tx.execute(stmt)}
        for index, dep in enumerate(depends_on):
            status = statuses.get(dep)
            if status is None:
                raise errors.InvalidInput(f"depends_on[{index}]", f"there is no job {dep}")
            if status in (FAILED_STATUS, CANCELLED_STATUS):
                raise errors.InvalidInput(
                    f"depends_on[{index}]", f"job {dep} is {status}: this job could never run"
                )
        return all(status == SUCCEEDED_STATUS for status in statuses.values())

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
                            jobs_table.c.status.in_(UNFINISHED),
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
        plain = [
            i for i, row in enumerate(rows) if row["unique_key"] is None and not specs[i].depends_on
        ]
        in_bulk = set(plain)
        others = [i for i in range(len(rows)) if i not in in_bulk]
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
            await self._record(tx, [event(i, EventType.ENQUEUED, 0) for i in new_ids])
            for i in others:
                job, _ = await self._insert(tx, rows[i], specs[i].depends_on)
                ids[i] = job.id
            await self._notify(tx, {row["queue"] for row in rows})
        return ids
