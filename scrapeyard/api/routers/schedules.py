"""``/v1/schedules``: recurring jobs on a cron expression or an interval."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from scrapeyard import errors as core_errors
from scrapeyard.api import errors
from scrapeyard.api import schedule_schemas as schemas
from scrapeyard.api.deps import ReadKey, Store, WriteKey
from scrapeyard.queue import schedules, timing
from scrapeyard.queue.store import JobStore

router = APIRouter(
    prefix="/v1/schedules",
    tags=["schedules"],
    responses=errors.responses(401, 403, 422, 429, 503),
)

ScheduleId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The schedule's id.")]
RUNS = 20


def _every(value: str | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return timing.parse_every(value)
    return timing.check_interval(value, field="every")


def _timing(cron: str | None, zone: str, every: str | float | None) -> timing.Timing:
    if cron is not None and every is not None:
        raise core_errors.InvalidInput("every", "give either cron or every, not both")
    if cron is None and every is None:
        raise core_errors.InvalidInput("cron", "give a cron expression or an interval (every)")
    if cron is not None:
        return timing.Timing(cron=timing.check_cron(cron), timezone=zone)
    return timing.Timing(interval=_every(every), timezone=zone)


async def _detail(store: schedules.ScheduleStore, schedule_id: int) -> schemas.Schedule:
    found = await store.get(schedule_id)
    return schemas.Schedule.of(found, await store.fires(schedule_id, limit=RUNS))


def _schedules(store: JobStore) -> schedules.ScheduleStore:
    return schedules.ScheduleStore(store)


@router.post(
    "",
    status_code=201,
    summary="Create a schedule",
    responses=errors.responses(400, 409, 413),
)
async def create(
    _key: WriteKey, store: Store, request: schemas.ScheduleRequest, response: Response
) -> schemas.Schedule:
    """Fire a job template on a cron expression (in a time zone) or every so often.

    Each fire time enqueues exactly one job, however many workers run (every worker
    fires due schedules). The template is checked like any job now, not at the first
    fire. 409 if the name is taken.
    """
    spec = schedules.ScheduleSpec(
        request.name,
        _timing(request.cron, request.timezone, request.every),
        request.job.to_core(),
        missed=schedules.MissedPolicy(request.missed),
        overlap=schedules.OverlapPolicy(request.overlap),
        paused=request.paused,
    )
    created = await _schedules(store).create(spec)
    response.headers["Location"] = f"{router.prefix}/{created.id}"
    return schemas.Schedule.of(created, [])


@router.get("", summary="List schedules")
async def list_schedules(
    _key: ReadKey,
    store: Store,
    paused: Annotated[bool | None, Query(description="Only paused (or running) ones.")] = None,
) -> list[schemas.Schedule]:
    """Every schedule, by name, with its next five fire times."""
    found = await _schedules(store).list_schedules(paused=paused)
    return [schemas.Schedule.of(schedule) for schedule in found]


@router.get("/{schedule_id}", summary="Get a schedule", responses=errors.responses(404))
async def get(_key: ReadKey, store: Store, schedule_id: ScheduleId) -> schemas.Schedule:
    """The schedule, its next five fire times, and its latest fire times with their jobs."""
    return await _detail(_schedules(store), schedule_id)


@router.patch(
    "/{schedule_id}", summary="Change a schedule", responses=errors.responses(400, 404, 409, 413)
)
async def update(
    _key: WriteKey, store: Store, schedule_id: ScheduleId, changes: schemas.ScheduleChanges
) -> schemas.Schedule:
    """Change any of the schedule's fields; `paused` pauses or resumes it.

    A new `cron` or `every`, or resuming, restarts it from the next fire time after
    now: fire times that passed meanwhile are not run.
    """
    scheduled = _schedules(store)
    current = await scheduled.get(schedule_id)
    new_timing = None
    if changes.cron is not None or changes.every is not None:
        new_timing = _timing(
            changes.cron, changes.timezone or current.timing.timezone, changes.every
        )
    elif changes.timezone is not None:
        if current.timing.cron is None:
            raise core_errors.InvalidInput("timezone", "only a cron schedule has a time zone")
        new_timing = timing.Timing(cron=current.timing.cron, timezone=changes.timezone)
    await scheduled.update(
        schedule_id,
        schedules.ScheduleChanges(
            name=changes.name,
            timing=new_timing,
            job=changes.job.to_core() if changes.job is not None else None,
            missed=schedules.MissedPolicy(changes.missed) if changes.missed else None,
            overlap=schedules.OverlapPolicy(changes.overlap) if changes.overlap else None,
            paused=changes.paused,
        ),
    )
    return await _detail(scheduled, schedule_id)


@router.delete(
    "/{schedule_id}",
    status_code=204,
    summary="Delete a schedule",
    responses=errors.responses(404),
)
async def delete(_key: WriteKey, store: Store, schedule_id: ScheduleId) -> Response:
    """Delete the schedule and its fire history; the jobs it enqueued stay."""
    await _schedules(store).delete(schedule_id)
    return Response(status_code=204)
