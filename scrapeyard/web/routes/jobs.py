"""``/jobs``: the filterable job table and its bulk actions; ``/jobs/new``: the job form."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scrapeyard import errors
from scrapeyard.api import deps
from scrapeyard.queue import dashboard, keys, queries
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.web import forms, job_detail, rendering, routing, submission, viewer
from scrapeyard.web.flash import Message

router = APIRouter(route_class=routing.PageRoute)

PAGE_SIZE = 50
MAX_BULK = 1000


@dataclass(frozen=True)
class Filters:
    """The table's filters, from the query string."""

    status: str = ""
    kind: str = ""
    queue: str = ""
    q: str = ""
    cursor: str | None = None

    @classmethod
    def of(cls, request: Request) -> Filters:
        params = request.query_params
        status = params.get("status", "")
        return cls(
            status=status if status in {str(s) for s in JobStatus} else "",
            kind=params.get("kind", "").strip()[:100],
            queue=params.get("queue", "").strip()[:100],
            q=params.get("q", "").strip()[: dashboard.MAX_SEARCH_LENGTH],
            cursor=params.get("cursor") or None,
        )

    def where(self) -> queries.JobFilter:
        return queries.JobFilter(
            status=[JobStatus(self.status)] if self.status else (),
            kind=self.kind or None,
            queue=self.queue or None,
        )

    def query(self, **changes: str | None) -> str:
        """This view's query string, with ``changes`` applied (``None`` drops a key)."""
        values: dict[str, str | None] = {
            "status": self.status,
            "kind": self.kind,
            "queue": self.queue,
            "q": self.q,
        }
        values.update(changes)
        return urllib.parse.urlencode({k: v for k, v in values.items() if v})

    @property
    def active(self) -> bool:
        return bool(self.status or self.kind or self.queue or self.q)


@router.get("/jobs")
async def jobs_page(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    filters = Filters.of(request)
    page = await dashboard.search_jobs(
        res.store.db,
        filters.where(),
        url_contains=filters.q or None,
        limit=PAGE_SIZE,
        cursor=filters.cursor,
    )
    kinds = sorted(res.store.kinds or [])
    queue_names = [info.name for info in await res.store.queues()]
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return rendering.page(
        request,
        "jobs.html",
        {
            "filters": filters,
            "page": page,
            "statuses": [str(s) for s in JobStatus],
            "kinds": kinds,
            "queues": queue_names,
            "targets": job_detail.targets,
            "here": here,
            "first_page": filters.cursor is not None,
        },
        active="/jobs",
    )


def _back(target: str) -> str:
    target = routing.safe_next(target)
    return target if target == "/jobs" or target.startswith("/jobs?") else "/jobs"


@router.post("/jobs/bulk")
async def bulk(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    form = await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    action = form.get("action")
    back = _back(form.get("back"))
    ids = sorted({int(v) for v in form.getlist("job") if v.isdigit() and len(v) < 19})
    if action not in ("cancel", "retry"):
        return rendering.redirect(back, message=Message("error", "Choose cancel or retry."))
    if not ids:
        return rendering.redirect(back, message=Message("warn", "No jobs were selected."))
    if len(ids) > MAX_BULK:
        message = Message("error", f"Select at most {MAX_BULK:,} jobs at a time.")
        return rendering.redirect(back, message=message)
    done: list[int] = []
    refused: list[str] = []
    for job_id in ids:
        try:
            if action == "cancel":
                await res.store.cancel(
                    job_id, reason=f"cancelled from the dashboard ({user.key.name})"
                )
            else:
                await res.store.retry(job_id)
        except (errors.InvalidTransition, errors.JobNotFound) as exc:
            refused.append(exc.message)
        else:
            done.append(job_id)
    verb = "Cancelled" if action == "cancel" else "Queued again"
    text = f"{verb}: {len(done)} job{'s' if len(done) != 1 else ''}."
    if refused:
        shown = "; ".join(refused[:3]) + ("; …" if len(refused) > 3 else "")
        text += f" {len(refused)} refused: {shown}."
    return rendering.redirect(back, message=Message("warn" if refused else "ok", text))


def _form_page(request: Request, sub: submission.Submission, status: int = 200) -> Response:
    return rendering.page(
        request,
        "new_job.html",
        {
            "sub": sub,
            "formats": submission.FORMATS,
            "checked": submission.checked(sub),
        },
        status=status,
        active="/jobs/new",
    )


@router.get("/jobs/new")
async def new_job_form(request: Request, user: viewer.Viewing) -> Response:
    user.require(keys.Scope.WRITE)
    return _form_page(request, submission.Submission.blank())


@router.post("/jobs/new")
async def new_job(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    form = await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    sub = submission.Submission.of(form)
    spec = submission.job_spec(sub)
    if spec is not None:
        try:
            job = await res.store.enqueue(spec)
        except errors.InvalidInput as exc:
            submission.record(sub, exc)
        else:
            message = Message("ok", f"{job.kind.capitalize()} job {job.id} submitted.")
            return rendering.redirect(f"/jobs/{job.id}", message=message)
    return _form_page(request, sub, status=422)
