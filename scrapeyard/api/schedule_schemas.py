"""Request and response bodies of ``/v1/schedules``.

A schedule fires on a ``cron`` expression (in ``timezone``) or ``every`` so often, and
each fire time enqueues one job from its ``job`` template. The template is checked like
any job when the schedule is saved (a crawl's options included), so a schedule never
fires a job that would be refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from scrapeyard.api.schemas import Name, _Model, _storable, _storable_json
from scrapeyard.queue import jobs
from scrapeyard.queue import schedules as core

Every = Annotated[str, Field(min_length=1, max_length=40)] | Annotated[float, Field(gt=0)]
Cron = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_storable)]
Zone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_storable)]


class JobTemplate(_Model):
    """The job each fire time enqueues."""

    kind: Name = Field(description="A registered job kind: `crawl`, `scrape`, `noop`...")
    payload: Annotated[dict[str, Any], AfterValidator(_storable_json)] = Field(
        default_factory=dict,
        description="The job's payload, e.g. a crawl's `url` and options.",
    )
    queue: Name | None = Field(None, description="Queue; default: the kind's, else `default`.")
    priority: int | None = Field(
        None, ge=jobs.MIN_PRIORITY, le=jobs.MAX_PRIORITY, strict=True, description="Higher first."
    )
    max_attempts: int | None = Field(
        None, ge=1, le=1000, strict=True, description="Attempts per job before it fails."
    )

    def to_core(self) -> core.JobTemplate:
        return core.JobTemplate(
            self.kind, self.payload, self.queue, self.priority, self.max_attempts
        )


_CRON = (
    "A cron expression: five fields (minute hour day month weekday), a sixth for seconds, "
    "or `@hourly`, `@daily`, `@weekly`... Not with `every`."
)
_EVERY = "An interval: seconds (`90`) or `90s`, `15m`, `2h`, `1d`, `1h30m`. Not with `cron`."
_MISSED = (
    "Fire times that passed while nothing fired (downtime): `skip` runs nothing for them, "
    "`run_once` runs one job for the latest."
)
_OVERLAP = "While the previous job is unfinished: `skip` the fire time, or `allow` another job."


class ScheduleRequest(_Model):
    """A new schedule."""

    name: Name = Field(description="Unique name, e.g. `nightly-catalogue`.")
    cron: Cron | None = Field(None, description=_CRON)
    timezone: Zone = Field("UTC", description="IANA time zone the cron is read in.")
    every: Every | None = Field(None, description=_EVERY)
    job: JobTemplate = Field(description="The job to enqueue at each fire time.")
    missed: Literal["skip", "run_once"] = Field("skip", description=_MISSED)
    overlap: Literal["skip", "allow"] = Field("skip", description=_OVERLAP)
    paused: bool = Field(False, description="Create it paused.")


class ScheduleChanges(_Model):
    """What to change; fields left out stay as they are. A new `cron` or `every`
    replaces the other, and restarts the schedule from the next fire time after now."""

    name: Name | None = Field(None, description="A new unique name.")
    cron: Cron | None = Field(None, description=_CRON)
    timezone: Zone | None = Field(None, description="IANA time zone the cron is read in.")
    every: Every | None = Field(None, description=_EVERY)
    job: JobTemplate | None = Field(None, description="A new job template, whole.")
    missed: Literal["skip", "run_once"] | None = Field(None, description=_MISSED)
    overlap: Literal["skip", "allow"] | None = Field(None, description=_OVERLAP)
    paused: bool | None = Field(
        None, description="Pause, or resume (from the next fire time after now)."
    )


class Fire(_Model):
    """One fire time and what came of it."""

    fire_at: datetime = Field(description="The fire time.")
    outcome: Literal["enqueued", "skipped", "missed", "failed"] = Field(
        description="`enqueued` a job; `skipped` as the previous job was unfinished; "
        "`missed` during downtime; `failed` to enqueue (see `error`)."
    )
    job_id: int | None = Field(description="The job enqueued, if any.")
    job_status: str | None = Field(description="That job's status now (null once purged).")
    error: str | None = Field(description="Why the job could not be enqueued.")

    @classmethod
    def of(cls, fire: core.Fire) -> Fire:
        return cls(
            fire_at=fire.fire_at,
            outcome=str(fire.outcome),
            job_id=fire.job_id,
            job_status=fire.job_status,
            error=fire.error,
        )


class Schedule(_Model):
    """A schedule, its next five fire times and (in detail) its last runs."""

    id: int = Field(description="The schedule's id.")
    name: str = Field(description="Its unique name.")
    cron: str | None = Field(description="The cron expression, if it has one.")
    timezone: str = Field(description="The time zone the cron is read in.")
    interval: float | None = Field(description="Seconds between fire times, if not cron.")
    description: str = Field(description="For people, e.g. `every 15m` or `0 6 * * * (UTC)`.")
    job: JobTemplate = Field(description="The job to enqueue at each fire time.")
    missed: Literal["skip", "run_once"] = Field(description=_MISSED)
    overlap: Literal["skip", "allow"] = Field(description=_OVERLAP)
    paused: bool = Field(description="Paused schedules do not fire.")
    next_fire_at: datetime | None = Field(description="The next fire time; null while paused.")
    next_fire_times: list[datetime] = Field(description="The next five fire times.")
    last_fire_at: datetime | None = Field(description="The latest fire time served.")
    last_job_id: int | None = Field(description="The job the latest enqueued fire made.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it was last changed.")
    last_runs: list[Fire] | None = Field(
        None, description="The latest fire times, newest first (in a single schedule's view)."
    )

    @classmethod
    def of(cls, schedule: core.Schedule, fires: list[core.Fire] | None = None) -> Schedule:
        data = schedule.to_json()
        data["job"] = JobTemplate(**schedule.job.to_json())
        if fires is not None:
            data["last_runs"] = [Fire.of(fire) for fire in fires]
        return cls.model_validate(data)
