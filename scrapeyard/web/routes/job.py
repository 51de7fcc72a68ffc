"""``/jobs/{id}``: one job, live; its cancel and retry buttons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from scrapeyard import errors
from scrapeyard.api import deps
from scrapeyard.queue import keys
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.queries import MAX_ID
from scrapeyard.web import forms, job_detail, live, rendering, routing, sessions, viewer
from scrapeyard.web.flash import Message

router = APIRouter(route_class=routing.PageRoute)

JobId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/jobs/{job_id}")
async def job_page(
    request: Request, res: deps.Res, user: viewer.Viewing, job_id: JobId
) -> Response:
    detail = await job_detail.gather(res, job_id)
    return rendering.page(
        request,
        "job.html",
        {
            "d": detail,
            "job": detail.job,
            "sections": job_detail.SECTIONS,
            "live_url": None if detail.job.finished else f"/jobs/{job_id}/events",
        },
        active="/jobs",
    )


@router.get("/jobs/{job_id}/events")
async def job_events(
    request: Request, res: deps.Res, user: viewer.Viewing, job_id: JobId
) -> Response:
    await res.store.get(job_id)  # an unknown job is a 404 before the stream starts
    cookie = request.cookies.get(sessions.COOKIE)
    seen: tuple[Any, ...] | None = None
    latest: tuple[dict[str, str], bool] = ({}, False)

    async def render() -> tuple[dict[str, str], bool]:
        # Every change a page shows (status, attempts, progress, which is written as
        # pages are stored) moves the job's updated_at: one cheap read per look.
        nonlocal seen, latest
        try:
            job = await res.store.get(job_id)
            fingerprint = (job.updated_at, job.status, job.attempts, job.cancel_requested)
            if fingerprint != seen:
                detail = await job_detail.gather(res, job_id)
                latest = job_detail.sections(detail, user), detail.job.finished
                seen = fingerprint
        except errors.JobNotFound:
            return {"job-head": rendering.render("job/_deleted.html", {"job_id": job_id})}, True
        return latest

    async def recheck() -> bool:
        return await viewer.identify(res, cookie) is not None

    return live.response(
        live.sections(res, render, recheck, interval=res.options.stream_poll_interval)
    )


@router.post("/jobs/{job_id}/cancel")
async def cancel(request: Request, res: deps.Res, user: viewer.Viewing, job_id: JobId) -> Response:
    await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    job = await res.store.cancel(job_id, reason=f"cancelled from the dashboard ({user.key.name})")
    if job.status is JobStatus.CANCELLED:
        message = Message("ok", f"Job {job_id} cancelled.")
    else:
        message = Message("ok", f"Job {job_id} was asked to stop; its worker stops it shortly.")
    return rendering.redirect(f"/jobs/{job_id}", message=message)


@router.post("/jobs/{job_id}/retry")
async def retry(request: Request, res: deps.Res, user: viewer.Viewing, job_id: JobId) -> Response:
    await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    await res.store.retry(job_id)
    return rendering.redirect(
        f"/jobs/{job_id}", message=Message("ok", f"Job {job_id} queued again.")
    )
