"""Schedules: a job template fired on a cron expression or an interval, exactly once per time.

A schedule row holds its timing (timing.py), the job to enqueue (kind, payload, queue,
priority, attempts) and its next fire time. Any number of processes may call
``fire_due`` at once (every worker does, each second): each due schedule is handled in
its own transaction that first locks the row (PostgreSQL ``FOR UPDATE SKIP LOCKED``;
SQLite takes the write lock at ``BEGIN IMMEDIATE``) and then records the fire time in
``schedule_fires``, whose primary key is (schedule, fire time). A second scheduler that
gets there anyway inserts nothing and enqueues nothing, so each fire time yields at most
one job, whichever hosts run schedulers and however their clocks drift.

Two policies shape what happens around a fire time:

- ``missed`` (after downtime, when fire times passed unserved): ``skip`` runs nothing
  for them and waits for the next one; ``run_once`` runs one job for the latest of them.
  A fire time served within its grace (a minute, or half the period if shorter) is on
  time, not missed.
- ``overlap`` (when the previous run has not finished): ``skip`` records the fire time
  as skipped; ``allow`` enqueues regardless.

Every fire time ends as one ``schedule_fires`` row: ``enqueued`` (with the job),
``skipped``, ``missed`` (the most recent ones of a long gap; the rest are counted in the
log) or ``failed`` (the job could not be enqueued, with why). Pausing stops firing;
resuming starts from the next fire time after now, as if the pause were downtime
under ``skip``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects, jobs
from scrapeyard.queue.base import UNFINISHED
from scrapeyard.queue.dialects import now as db_now
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.tables import schedule_fires, schedules
from scrapeyard.queue.timing import Timing

log = logging.getLogger(__name__)

MISSED_ROWS = 10
"""After downtime, the most recent missed fire times recorded one row each."""
MAX_CATCH_UP = 1000
"""Fire times walked one by one to count the missed ones; beyond that, a jump."""
UPCOMING = 5


class MissedPolicy(enum.StrEnum):
    """What to run for fire times that passed while nothing was firing."""

    SKIP = "skip"
    """Nothing; wait for the next fire time."""
    RUN_ONCE = "run_once"
    """One job, for the latest of them."""


class OverlapPolicy(enum.StrEnum):
    """What a fire time does while the schedule's previous job is unfinished."""

    SKIP = "skip"
    """Record the fire time as skipped."""
    ALLOW = "allow"
    """Enqueue anyway."""


class FireOutcome(enum.StrEnum):
    ENQUEUED = "enqueued"
    SKIPPED = "skipped"
    MISSED = "missed"
    FAILED = "failed"


_P = TypeVar("_P", bound=enum.StrEnum)


def _policy(policy: type[_P], field_name: str, value: object) -> _P:
    try:
        return policy(str(value))
    except ValueError:
        allowed = ", ".join(str(member) for member in policy)
        raise errors.InvalidInput(field_name, f"must be one of: {allowed}") from None


@dataclass(frozen=True)
class JobTemplate:
    """The job each fire time enqueues; validated like any job."""

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    queue: str | None = None
    priority: int | None = None
    max_attempts: int | None = None

    def spec(self, *, unique_key: str | None = None) -> JobSpec:
        return JobSpec(
            kind=self.kind,
            payload=dict(self.payload),
            queue=self.queue,
            priority=self.priority,
            max_attempts=self.max_attempts,
            unique_key=unique_key,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "payload": dict(self.payload),
            "queue": self.queue,
            "priority": self.priority,
            "max_attempts": self.max_attempts,
        }


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule to create."""

    name: str
    timing: Timing
    job: JobTemplate
    missed: MissedPolicy = MissedPolicy.SKIP
    overlap: OverlapPolicy = OverlapPolicy.SKIP
    paused: bool = False

    def __post_init__(self) -> None:
        jobs.validate_name("name", self.name)
        object.__setattr__(self, "missed", _policy(MissedPolicy, "missed", self.missed))
        object.__setattr__(self, "overlap", _policy(OverlapPolicy, "overlap", self.overlap))


@dataclass(frozen=True)
class ScheduleChanges:
    """What a PATCH may change; ``None`` leaves a field as it is."""

    name: str | None = None
    timing: Timing | None = None
    job: JobTemplate | None = None
    missed: MissedPolicy | None = None
    overlap: OverlapPolicy | None = None
    paused: bool | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            jobs.validate_name("name", self.name)
        if self.missed is not None:
            object.__setattr__(self, "missed", _policy(MissedPolicy, "missed", self.missed))
        if self.overlap is not None:
            object.__setattr__(self, "overlap", _policy(OverlapPolicy, "overlap", self.overlap))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Schedule:
    """A schedule as stored."""

    id: int
    name: str
    timing: Timing
    job: JobTemplate
    missed: MissedPolicy
    overlap: OverlapPolicy
    paused: bool
    next_fire_at: datetime | None
    last_fire_at: datetime | None
    last_job_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Schedule:
        return cls(
            id=row["id"],
            name=row["name"],
            timing=Timing(cron=row["cron"], timezone=row["timezone"], interval=row["interval"]),
            job=JobTemplate(
                kind=row["kind"],
                payload=row["payload"],
                queue=row["queue"],
                priority=row["priority"],
                max_attempts=row["max_attempts"],
            ),
            missed=MissedPolicy(row["missed"]),
            overlap=OverlapPolicy(row["overlap"]),
            paused=bool(row["paused"]),
            next_fire_at=row["next_fire_at"],
            last_fire_at=row["last_fire_at"],
            last_job_id=row["last_job_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def upcoming(self, count: int = UPCOMING) -> list[datetime]:
        """The next ``count`` fire times; none while paused."""
        if self.paused or self.next_fire_at is None:
            return []
        return self.timing.upcoming(self.next_fire_at, count, grid=self.next_fire_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "cron": self.timing.cron,
            "timezone": self.timing.timezone,
            "interval": self.timing.interval,
            "description": self.timing.describe(),
            "job": self.job.to_json(),
            "missed": str(self.missed),
            "overlap": str(self.overlap),
            "paused": self.paused,
            "next_fire_at": _iso(self.next_fire_at),
            "next_fire_times": [t.isoformat() for t in self.upcoming()],
            "last_fire_at": _iso(self.last_fire_at),
            "last_job_id": self.last_job_id,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class Fire:
    """One fire time of a schedule and what came of it (with the job's status, if any)."""

    schedule_id: int
    fire_at: datetime
    outcome: FireOutcome
    job_id: int | None
    job_status: str | None
    error: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "schedule_id": self.schedule_id,
            "fire_at": self.fire_at.isoformat(),
            "outcome": str(self.outcome),
            "job_id": self.job_id,
            "job_status": self.job_status,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Fired:
    """What ``fire_due`` did for one fire time: for logs, metrics and webhooks."""

    schedule_id: int
    name: str
    fire_at: datetime
    outcome: FireOutcome
    job_id: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "schedule_id": self.schedule_id,
            "name": self.name,
            "fire_at": self.fire_at.isoformat(),
            "outcome": str(self.outcome),
            "job_id": self.job_id,
            "error": self.error,
        }


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        raise errors.InvalidInput("now", "must include a time zone")
    return moment.astimezone(UTC)


FireHook = Callable[[AsyncConnection, "Fired"], Awaitable[None]]
"""Called in the firing transaction for each fire time served (not the missed ones):
what it writes commits with the fire (webhook deliveries, for one). If it raises, its
writes are rolled back and logged; the fire stands."""


class ScheduleStore:
    """Schedules on one database; jobs are enqueued through ``jobs`` (its kinds apply)."""

    def __init__(self, jobs_store: JobStore, *, on_fire: FireHook | None = None) -> None:
        self.jobs = jobs_store
        self.on_fire = on_fire
        self.db = jobs_store.db
        self._dialect = self.db.engine.dialect.name
        self._record_fire = dialects.insert_ignoring_conflicts(
            self._dialect, schedule_fires, ["schedule_id", "fire_at"]
        ).returning(schedule_fires.c.fire_at)

    # -- reading -----------------------------------------------------------------------

    async def get(self, schedule: int | str) -> Schedule:
        """The schedule with this id (an int) or name (a str); ``ScheduleNotFound``."""
        column = schedules.c.id if isinstance(schedule, int) else schedules.c.name
        async with self.db.read() as conn:
            row = (
                (await conn.execute(sa.select(schedules).where(column == schedule)))
                .mappings()
                .one_or_none()
            )
        if row is None:
            raise errors.ScheduleNotFound(schedule)
        return Schedule.from_row(row)

    async def list_schedules(self, *, paused: bool | None = None) -> list[Schedule]:
        stmt = sa.select(schedules).order_by(schedules.c.name)
        if paused is not None:
            stmt = stmt.where(schedules.c.paused == paused)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [Schedule.from_row(row) for row in rows]

    async def fires(self, schedule_id: int, *, limit: int = 20) -> list[Fire]:
        """The schedule's latest fire times, newest first, with their jobs' statuses."""
        stmt = (
            sa.select(schedule_fires, jobs_table.c.status.label("job_status"))
            .select_from(
                schedule_fires.outerjoin(jobs_table, jobs_table.c.id == schedule_fires.c.job_id)
            )
            .where(schedule_fires.c.schedule_id == schedule_id)
            .order_by(schedule_fires.c.fire_at.desc())
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            Fire(
                schedule_id=row["schedule_id"],
                fire_at=row["fire_at"],
                outcome=FireOutcome(row["outcome"]),
                job_id=row["job_id"],
                job_status=row["job_status"],
                error=row["error"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    # -- changing ----------------------------------------------------------------------

    async def create(self, spec: ScheduleSpec, *, now: datetime | None = None) -> Schedule:
        """Create a schedule; ``ScheduleConflict`` if its name is taken."""
        self._check(spec.job)
        moment = _utc(now)
        values = {
            "name": spec.name,
            **self._timing_values(spec.timing),
            **self._job_values(spec.job),
            "missed": str(spec.missed),
            "overlap": str(spec.overlap),
            "paused": spec.paused,
            "next_fire_at": spec.timing.first(moment),
            "created_at": db_now(),
            "updated_at": db_now(),
        }
        async with self.db.write() as conn:
            await self._name_free(conn, spec.name)
            row = (
                (await conn.execute(sa.insert(schedules).values(values).returning(*schedules.c)))
                .mappings()
                .one()
            )
        return Schedule.from_row(row)

    async def update(
        self, schedule_id: int, changes: ScheduleChanges, *, now: datetime | None = None
    ) -> Schedule:
        """Change a schedule; a new timing or a resume restarts from the next fire after now."""
        if changes.job is not None:
            self._check(changes.job)
        moment = _utc(now)
        async with self.db.write() as conn:
            current = await self._locked(conn, schedule_id)
            values: dict[str, Any] = {"updated_at": db_now()}
            if changes.name is not None and changes.name != current.name:
                await self._name_free(conn, changes.name)
                values["name"] = changes.name
            if changes.job is not None:
                values.update(self._job_values(changes.job))
            if changes.missed is not None:
                values["missed"] = str(changes.missed)
            if changes.overlap is not None:
                values["overlap"] = str(changes.overlap)
            timing = changes.timing or current.timing
            if changes.timing is not None:
                values.update(self._timing_values(changes.timing))
            paused = current.paused if changes.paused is None else changes.paused
            values["paused"] = paused
            if changes.timing is not None or (current.paused and not paused):
                values["next_fire_at"] = timing.first(moment)
            row = (
                (
                    await conn.execute(
                        sa.update(schedules)
                        .where(schedules.c.id == schedule_id)
                        .values(values)
                        .returning(*schedules.c)
                    )
                )
                .mappings()
                .one()
            )
        return Schedule.from_row(row)

    async def pause(self, schedule_id: int) -> Schedule:
        return await self.update(schedule_id, ScheduleChanges(paused=True))

    async def resume(self, schedule_id: int, *, now: datetime | None = None) -> Schedule:
        return await self.update(schedule_id, ScheduleChanges(paused=False), now=now)

    async def delete(self, schedule_id: int) -> None:
        """Delete a schedule and its fire history; the jobs it enqueued stay."""
        async with self.db.write() as conn:
            deleted = await conn.execute(sa.delete(schedules).where(schedules.c.id == schedule_id))
        if deleted.rowcount == 0:
            raise errors.ScheduleNotFound(schedule_id)

    # -- firing ------------------------------------------------------------------------

    async def fire_due(self, now: datetime | None = None, *, limit: int = 100) -> list[Fired]:
        """Fire every schedule whose next fire time has come; what each fire time became.

        Safe to call from any number of processes at once (see the module docstring).
        """
        moment = _utc(now)
        due_stmt = (
            sa.select(schedules.c.id)
            .where(schedules.c.paused.is_(False), schedules.c.next_fire_at <= moment)
            .order_by(schedules.c.next_fire_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            due = (await conn.execute(due_stmt)).scalars().all()
        fired: list[Fired] = []
        for schedule_id in due:
            try:
                fired.extend(await self._fire_one(schedule_id, moment))
            except errors.DatabaseUnavailable:
                raise
            except Exception:
                log.exception("schedule %d could not fire", schedule_id)
        return fired

    async def _fire_one(self, schedule_id: int, moment: datetime) -> list[Fired]:
        async with self.db.write() as conn:
            stmt = sa.select(schedules).where(
                schedules.c.id == schedule_id,
                schedules.c.paused.is_(False),
                schedules.c.next_fire_at <= moment,
            )
            if self._dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = (await conn.execute(stmt)).mappings().one_or_none()
            if row is None:
                return []  # another scheduler holds it, or has just fired it
            schedule = Schedule.from_row(row)
            assert schedule.next_fire_at is not None
            latest, missed, missed_count = self._due_times(schedule, moment)
            late = (moment - latest).total_seconds() > schedule.timing.grace(latest)
            if late and schedule.missed is MissedPolicy.SKIP:
                missed.append(latest)
                missed_count += 1
                fire_at = None
            else:
                fire_at = latest
            if missed_count:
                # Schedules faster than the schedulers' tick miss a time now and then.
                level = logging.WARNING if schedule.timing.grace(latest) > 5 else logging.INFO
                log.log(
                    level,
                    "schedule %r missed %s fire time(s) from %s to %s (policy %s)",
                    schedule.name,
                    f"{missed_count}+" if missed_count >= MAX_CATCH_UP else missed_count,
                    (missed[0] if missed else latest).isoformat(),
                    latest.isoformat(),
                    schedule.missed,
                )
            results = [
                Fired(schedule.id, schedule.name, at, FireOutcome.MISSED)
                for at in missed[-MISSED_ROWS:]
                if await self._claim_fire(conn, schedule.id, at, FireOutcome.MISSED)
            ]
            values: dict[str, Any] = {
                "next_fire_at": schedule.timing.after(moment, grid=schedule.next_fire_at),
                "updated_at": db_now(),
            }
            if fire_at is not None:
                result = await self._fire(conn, schedule, fire_at)
                if result is not None:
                    results.append(result)
                    await self._tell(conn, result)
                    values["last_fire_at"] = fire_at
                    if result.job_id is not None:
                        values["last_job_id"] = result.job_id
            await conn.execute(
                sa.update(schedules).where(schedules.c.id == schedule.id).values(values)
            )
        return results

    def _due_times(
        self, schedule: Schedule, moment: datetime
    ) -> tuple[datetime, list[datetime], int]:
        """The latest fire time at or before ``moment``, the ones before it still unserved
        (the most recent ``MISSED_ROWS``, oldest first), and how many those are in all
        (counted up to ``MAX_CATCH_UP``)."""
        first = schedule.next_fire_at
        assert first is not None
        timing = schedule.timing
        latest = timing.at_or_before(moment, grid=first)
        earlier: list[datetime] = []
        current = latest
        while len(earlier) < MISSED_ROWS:
            current = timing.before(current, grid=first)
            if current < first:
                break
            earlier.append(current)
        earlier.reverse()
        if len(earlier) < MISSED_ROWS:
            return latest, earlier, len(earlier)
        count, current = 0, first
        while current < latest and count < MAX_CATCH_UP:
            count += 1
            current = timing.after(current, grid=first)
        return latest, earlier, count

    async def _fire(
        self, conn: AsyncConnection, schedule: Schedule, fire_at: datetime
    ) -> Fired | None:
        """Serve one fire time: skip it for an unfinished previous job, or enqueue."""
        if schedule.overlap is OverlapPolicy.SKIP and schedule.last_job_id is not None:
            status = await conn.scalar(
                sa.select(jobs_table.c.status).where(jobs_table.c.id == schedule.last_job_id)
            )
            if status in UNFINISHED:
                if not await self._claim_fire(conn, schedule.id, fire_at, FireOutcome.SKIPPED):
                    return None
                log.info(
                    "schedule %r skipped %s: job %d is still %s",
                    schedule.name,
                    fire_at.isoformat(),
                    schedule.last_job_id,
                    status,
                )
                return Fired(schedule.id, schedule.name, fire_at, FireOutcome.SKIPPED)
        if not await self._claim_fire(conn, schedule.id, fire_at, FireOutcome.ENQUEUED):
            return None
        key = f"schedule:{schedule.id}:{fire_at.isoformat()}"
        try:
            # Refusals come from validation, before anything is written.
            job = await self.jobs.enqueue(schedule.job.spec(unique_key=key), conn=conn)
        except errors.InvalidInput as exc:
            message = str(exc)[:500]
            await self._set_fire(
                conn, schedule.id, fire_at, outcome=FireOutcome.FAILED, error=message
            )
            log.error("schedule %r could not enqueue its job: %s", schedule.name, message)
            return Fired(schedule.id, schedule.name, fire_at, FireOutcome.FAILED, error=message)
        await self._set_fire(conn, schedule.id, fire_at, job_id=job.id)
        log.info("schedule %r fired for %s: job %d", schedule.name, fire_at.isoformat(), job.id)
        return Fired(schedule.id, schedule.name, fire_at, FireOutcome.ENQUEUED, job_id=job.id)

    async def _tell(self, conn: AsyncConnection, fired: Fired) -> None:
        if self.on_fire is None:
            return
        try:
            async with conn.begin_nested():
                await self.on_fire(conn, fired)
        except errors.DatabaseUnavailable:
            raise
        except Exception:
            log.exception("the fire hook failed for schedule %r", fired.name)

    async def _claim_fire(
        self, conn: AsyncConnection, schedule_id: int, fire_at: datetime, outcome: FireOutcome
    ) -> bool:
        """Record a fire time; False if some scheduler already has (then do nothing)."""
        inserted = await conn.execute(
            self._record_fire,
            {
                "schedule_id": schedule_id,
                "fire_at": fire_at,
                "outcome": str(outcome),
                "created_at": datetime.now(UTC),
            },
        )
        return inserted.first() is not None

    async def _set_fire(
        self, conn: AsyncConnection, schedule_id: int, fire_at: datetime, **values: Any
    ) -> None:
        if "outcome" in values:
            values["outcome"] = str(values["outcome"])
        await conn.execute(
            sa.update(schedule_fires)
            .where(schedule_fires.c.schedule_id == schedule_id, schedule_fires.c.fire_at == fire_at)
            .values(values)
        )

    # -- helpers -----------------------------------------------------------------------

    def _check(self, template: JobTemplate) -> None:
        """Refuse a template any fire would fail to enqueue, naming the field in it."""
        kinds = self.jobs.kinds
        try:
            spec = template.spec()
            if kinds is not None and spec.kind in kinds:
                try:
                    kinds.validate(spec.kind, spec.payload)
                except errors.InvalidInput as exc:
                    raise errors.InvalidInput(f"payload.{exc.field}", exc.problem) from None
            self.jobs.check(spec)
        except errors.InvalidInput as exc:
            raise errors.InvalidInput(f"job.{exc.field}", exc.problem) from None

    async def _name_free(self, conn: AsyncConnection, name: str) -> None:
        taken = await conn.scalar(sa.select(schedules.c.id).where(schedules.c.name == name))
        if taken is not None:
            raise errors.ScheduleConflict(f"a schedule named {name!r} exists (id {taken})")

    async def _locked(self, conn: AsyncConnection, schedule_id: int) -> Schedule:
        stmt = sa.select(schedules).where(schedules.c.id == schedule_id)
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = (await conn.execute(stmt)).mappings().one_or_none()
        if row is None:
            raise errors.ScheduleNotFound(schedule_id)
        return Schedule.from_row(row)

    @staticmethod
    def _timing_values(timing: Timing) -> dict[str, Any]:
        return {"cron": timing.cron, "timezone": timing.timezone, "interval": timing.interval}

    @staticmethod
    def _job_values(template: JobTemplate) -> dict[str, Any]:
        return {
            "kind": template.kind,
            "payload": dict(template.payload),
            "queue": template.queue,
            "priority": template.priority,
            "max_attempts": template.max_attempts,
        }


__all__: Sequence[str] = [
    "Fire",
    "FireOutcome",
    "Fired",
    "JobTemplate",
    "MissedPolicy",
    "OverlapPolicy",
    "Schedule",
    "ScheduleChanges",
    "ScheduleSpec",
    "ScheduleStore",
]
