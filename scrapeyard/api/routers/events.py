"""``GET /v1/jobs/{id}/events``: a job's progress and status changes as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

from scrapeyard.api import errors, schemas, streams
from scrapeyard.api.deps import JobIdPath, ReadKey, Res, Store
from scrapeyard.queue.jobs import Job

router = APIRouter(
    prefix="/v1/jobs",
    tags=["jobs"],
    responses=errors.responses(401, 403, 404, 422, 429, 503, by_reference=True),
)


async def _existing_job(store: Store, job_id: JobIdPath) -> Job:
    # Looked up before the stream starts, so an unknown id is a plain 404.
    return await store.get(job_id)


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    summary="Follow a job live",
)
async def job_events(
    _key: ReadKey,
    res: Res,
    job: Annotated[Job, Depends(_existing_job)],
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            le=schemas.MAX_JOB_ID,
            description="Resume after this history entry (browsers send it on reconnect).",
        ),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events until the job finishes.

    - `job`: the job now (a JobSummary), and again on every change of status,
      progress, attempts or error;
    - `history`: each history entry (a JobEvent), past ones first; its `id` is the
      entry's id, for `Last-Event-ID`;
    - `end`: the job finished (data: the final JobSummary); the stream closes;
    - `deleted`: the job was deleted; the stream closes.

    Comment lines keep an idle connection open through proxies.
    """
    async for event in streams.follow(
        res.store,
        job,
        gate=res.gate,
        poll_interval=res.options.stream_poll_interval,
        heartbeat=res.options.stream_heartbeat,
        last_event_id=last_event_id or 0,
    ):
        yield event
