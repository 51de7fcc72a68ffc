"""``/v1/jobs``: enqueue any registered kind, list and inspect jobs, cancel, retry, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from scrapeyard.api import errors, schemas
from scrapeyard.api.deps import JobIdPath, ReadKey, Store, WriteKey
from scrapeyard.queue import queries
from scrapeyard.queue.crawls import CRAWL_KINDS, CrawlStore
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore

router = APIRouter(
    prefix="/v1/jobs", tags=["jobs"], responses=errors.responses(401, 403, 422, 429, 503)
)


async def with_history(store: JobStore, job_id: int) -> schemas.Job:
    """The job as the API shows it: history, and a crawl's counters as ``stats``."""
    view = await store.view(job_id, with_crawl=True)
    stats = None
    if view.job.kind in CRAWL_KINDS:
        stats = await CrawlStore(store.db).shown_counters(view)
    return schemas.Job.with_history(
        view.job, view.history, stats=stats, depends_on=view.depends_on, chain=view.chain
    )


@router.get("", summary="List jobs")
async def list_jobs(
    _key: ReadKey, store: Store, query: Annotated[schemas.JobQuery, Query()]
) -> schemas.JobPage:
    """Jobs matching every filter given, newest first, a page at a time."""
    where = queries.JobFilter(
        status=query.status or (),
        queue=query.queue,
        kind=query.kind,
        created_after=query.created_after,
        created_before=query.created_before,
    )
    return schemas.JobPage.of(await store.list_jobs(where, limit=query.limit, cursor=query.cursor))


@router.post(
    "",
    status_code=202,
    summary="Enqueue a job",
    responses=errors.responses(400, 413),
)
async def enqueue(
    _key: WriteKey, store: Store, request: schemas.EnqueueRequest, response: Response
) -> schemas.Job:
    """Put a job of any registered kind on its queue; workers pick it up.

    With a `unique_key` that an unfinished job holds, that job is returned and nothing
    is added. The `Location` header is the job's URL.
    """
    job = await store.enqueue(_spec(request))
    response.headers["Location"] = f"{router.prefix}/{job.id}"
    return await with_history(store, job.id)


def _spec(request: schemas.EnqueueRequest) -> JobSpec:
    return JobSpec(
        request.kind,
        request.payload,
        queue=request.queue,
        priority=request.priority,
        run_at=request.run_at,
        delay=request.delay,
        max_attempts=request.max_attempts,
        timeout=request.timeout,
        unique_key=request.unique_key,
        depends_on=tuple(request.depends_on or ()),
    )


@router.post(
    "/chain",
    status_code=202,
    summary="Enqueue a chain of jobs",
    responses=errors.responses(400, 413),
)
async def enqueue_chain(
    _key: WriteKey, store: Store, request: schemas.ChainRequest, response: Response
) -> list[schemas.Job]:
    """Jobs that run one after another (each waits for the one before it to succeed).

    If one fails for good, the rest are cancelled with the reason. They share a
    `chain_id`, and each job's detail lists the whole chain.
    """
    chained = await store.enqueue_chain([_spec(step) for step in request.jobs])
    response.headers["Location"] = f"{router.prefix}/{chained[0].id}"
    return [await with_history(store, job.id) for job in chained]


@router.get("/{job_id}", summary="Get a job", responses=errors.responses(404))
async def get_job(_key: ReadKey, store: Store, job_id: JobIdPath) -> schemas.Job:
    """A job: status, progress, attempts, last error, result, timestamps and history."""
    return await with_history(store, job_id)


@router.post("/{job_id}/cancel", summary="Cancel a job", responses=errors.responses(404, 409))
async def cancel(_key: WriteKey, store: Store, job_id: JobIdPath) -> schemas.Job:
    """Cancel a job: a waiting one at once; a running one is asked to stop.

    A running job's worker learns of it within one heartbeat (`cancel_requested` is
    true meanwhile). Cancelling a finished job is a 409.
    """
    await store.cancel(job_id, reason="cancelled through the API")
    return await with_history(store, job_id)


@router.post("/{job_id}/retry", summary="Retry a job", responses=errors.responses(404, 409))
async def retry(_key: WriteKey, store: Store, job_id: JobIdPath) -> schemas.Job:
    """Queue a failed or cancelled job again, with its attempts reset."""
    await store.retry(job_id)
    return await with_history(store, job_id)


@router.delete(
    "/{job_id}",
    status_code=204,
    summary="Delete a job",
    responses=errors.responses(404, 409),
)
async def delete(_key: WriteKey, store: Store, job_id: JobIdPath) -> Response:
    """Delete a job and its history. A running job must be cancelled first (else 409)."""
    await store.delete(job_id)
    return Response(status_code=204)
