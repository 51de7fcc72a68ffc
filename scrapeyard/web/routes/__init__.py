"""The dashboard's pages, one module per area; ``router`` gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from scrapeyard.web.routes import (
    fleet,
    job,
    jobs,
    overview,
    queues,
    schedules,
    session,
    webhooks,
)

router = APIRouter()
# /jobs/new comes before /jobs/{job_id}, which would otherwise take it for an id.
for part in (session, overview, jobs, job, schedules, webhooks, queues, fleet):
    router.include_router(part.router)
