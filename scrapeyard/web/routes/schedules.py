"""``/schedules``: recurring jobs, each one's page, the form for a new one, and the
pause, resume and delete buttons (write keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from scrapeyard import errors
from scrapeyard.api import deps
from scrapeyard.queue import keys
from scrapeyard.queue.schedules import ScheduleStore
from scrapeyard.web import forms, job_detail, rendering, routing, schedule_form, submission, viewer
from scrapeyard.web.flash import Message

router = APIRouter(route_class=routing.PageRoute)

ScheduleId = Annotated[int, Path(ge=1, le=2**63 - 1)]
RUNS = 20
"""Fire times listed on a schedule's page, newest first."""
POLICIES = {
    "missed": {str(value): f"{label}: {hint}" for value, label, hint in schedule_form.MISSED},
    "overlap": {str(value): f"{label}: {hint}" for value, label, hint in schedule_form.OVERLAP},
}


@router.get("/schedules")
async def schedules_page(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    found = await ScheduleStore(res.store).list_schedules()
    last = [s.last_job_id for s in found if s.last_job_id is not None]
    return rendering.page(
        request,
        "schedules.html",
        {
            "schedules": found,
            "last_jobs": await res.store.get_many(last) if last else {},
            "targets": job_detail.payload_targets,
        },
        active="/schedules",
    )


def _form_page(
    request: Request, res: deps.Resources, draft: schedule_form.Draft, status: int = 200
) -> Response:
    return rendering.page(
        request,
        "new_schedule.html",
        {
            "draft": draft,
            "sub": draft.job,
            "formats": submission.FORMATS,
            "checked": submission.checked(draft.job),
            "missed": schedule_form.MISSED,
            "overlap": schedule_form.OVERLAP,
            "zones": schedule_form.time_zones(),
            "kinds": sorted(set(res.store.kinds or ()) - set(submission.KINDS)),
        },
        status=status,
        active="/schedules",
    )


# /schedules/new comes before /schedules/{schedule_id}, which would take it for an id.
@router.get("/schedules/new")
async def new_schedule_form(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    user.require(keys.Scope.WRITE)
    return _form_page(request, res, schedule_form.Draft.blank())


@router.post("/schedules/new")
async def new_schedule(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    form = await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    draft = schedule_form.Draft.of(form)
    spec = schedule_form.schedule_spec(draft)
    if spec is not None:
        try:
            created = await ScheduleStore(res.store).create(spec)
        except errors.InvalidInput as exc:
            schedule_form.record(draft, exc)
        except errors.ScheduleConflict as exc:
            schedule_form.name_taken(draft, exc)
        else:
            message = Message("ok", f"Schedule {created.name} created.")
            return rendering.redirect(f"/schedules/{created.id}", message=message)
    return _form_page(request, res, draft, status=422)


@router.get("/schedules/{schedule_id}")
async def schedule_page(
    request: Request, res: deps.Res, user: viewer.Viewing, schedule_id: ScheduleId
) -> Response:
    store = ScheduleStore(res.store)
    found = await store.get(schedule_id)
    return rendering.page(
        request,
        "schedule.html",
        {
            "s": found,
            "upcoming": found.upcoming(),
            "fires": await store.fires(schedule_id, limit=RUNS),
            "urls": job_detail.payload_targets(found.job.payload),
            "policies": POLICIES,
        },
        active="/schedules",
    )


def _back(target: str, schedule_id: int) -> str:
    """Where a button sends the viewer back to: the list, or this schedule's page."""
    mine = f"/schedules/{schedule_id}"
    return target if routing.safe_next(target) in ("/schedules", mine) else "/schedules"


@router.post("/schedules/{schedule_id}/pause")
async def pause(
    request: Request, res: deps.Res, user: viewer.Viewing, schedule_id: ScheduleId
) -> Response:
    form = await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    paused = await ScheduleStore(res.store).pause(schedule_id)
    text = f"Schedule {paused.name} paused: it fires nothing until it is resumed."
    return rendering.redirect(_back(form.get("back"), schedule_id), message=Message("ok", text))


@router.post("/schedules/{schedule_id}/resume")
async def resume(
    request: Request, res: deps.Res, user: viewer.Viewing, schedule_id: ScheduleId
) -> Response:
    form = await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    resumed = await ScheduleStore(res.store).resume(schedule_id)
    text = f"Schedule {resumed.name} resumed from the next fire time."
    return rendering.redirect(_back(form.get("back"), schedule_id), message=Message("ok", text))


@router.post("/schedules/{schedule_id}/delete")
async def delete(
    request: Request, res: deps.Res, user: viewer.Viewing, schedule_id: ScheduleId
) -> Response:
    await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    store = ScheduleStore(res.store)
    name = (await store.get(schedule_id)).name
    await store.delete(schedule_id)
    text = f"Schedule {name} deleted; the jobs it enqueued stay."
    return rendering.redirect("/schedules", message=Message("ok", text))
