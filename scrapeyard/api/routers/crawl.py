"""Crawling: scrape, batch scrape, crawl and map; records, errors, exports; hosts."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from scrapeyard import exports
from scrapeyard.api import crawl_schemas as schemas
from scrapeyard.api import errors
from scrapeyard.api.deps import JobIdPath, ReadKey, Res, Resources, Store, WriteKey
from scrapeyard.api.routers.jobs import with_history
from scrapeyard.queue import hosts, queries
from scrapeyard.queue.crawls import CrawlStore
from scrapeyard.queue.jobs import Job, JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.worker import exporting

SCRAPE_PRIORITY = 100
"""A scrape through the API waits for its answer: it goes ahead of queued crawls."""
POLL = 0.1

router = APIRouter(tags=["crawling"], responses=errors.responses(401, 403, 422, 429, 503))

_PLACEMENT = {"priority", "queue", "unique_key", "wait"}
_NOT_YET: dict[int | str, dict[str, Any]] = {
    202: {"model": schemas.Started, "description": "Not done in time; follow the job."}
}


def _payload(request: schemas.FetchOptions) -> dict[str, Any]:
    """The job payload: every option the request sets, placement fields left out."""
    return request.model_dump(exclude_none=True, exclude=_PLACEMENT)


async def _enqueue(
    store: JobStore, kind: str, request: schemas.FetchOptions, priority: int | None
) -> Job:
    placement = schemas.Placement.model_validate(
        request.model_dump(include={"priority", "queue", "unique_key"})
    )
    return await store.enqueue(
        JobSpec(
            kind,
            _payload(request),
            queue=placement.queue,
            priority=placement.priority if placement.priority is not None else priority,
            unique_key=placement.unique_key,
        )
    )


async def _started(
    store: JobStore, job: Job, request: Request, response: Response
) -> schemas.Started:
    base = str(request.base_url).rstrip("/")
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return schemas.Started(
        job=await with_history(store, job.id),
        status_url=f"{base}/v1/jobs/{job.id}",
        events_url=f"{base}/v1/jobs/{job.id}/events",
        results_url=f"{base}/v1/jobs/{job.id}/results",
    )


async def _finished(res: Resources, job_id: int, wait: float) -> Job | None:
    """The job once it finished within ``wait`` seconds (capped), else ``None``."""
    store = res.store
    deadline = time.monotonic() + min(wait, res.options.max_wait)
    while True:
        job = await store.get(job_id)
        if job.finished:
            return job
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(POLL)


@router.post(
    "/v1/scrape",
    summary="Scrape one page",
    responses={**errors.responses(400, 413), **_NOT_YET},
)
async def scrape(
    _key: WriteKey,
    res: Res,
    store: Store,
    body: schemas.ScrapeRequest,
    request: Request,
    response: Response,
) -> schemas.ScrapeResult:
    """Fetch a page (at high priority) and answer with its record.

    Waits up to `wait` seconds; if the job has not finished by then, answers 202 with
    the job and its URLs instead.
    """
    job = await _enqueue(store, "scrape", body, SCRAPE_PRIORITY)
    done = await _finished(res, job.id, body.wait)
    if done is None:
        started = await _started(store, job, request, response)
        return JSONResponse(started.model_dump(mode="json"), status_code=202)  # type: ignore[return-value]
    page = await CrawlStore(store.db).pages(job.id, limit=1)
    record = exports.record(page.records[0]) if page.records else None
    return schemas.ScrapeResult(
        job=await with_history(store, job.id),
        record=schemas.Record.model_validate(record) if record else None,
    )


@router.post(
    "/v1/batch/scrape",
    status_code=202,
    summary="Scrape many pages",
    responses=errors.responses(400, 413),
)
async def batch_scrape(
    _key: WriteKey,
    store: Store,
    body: schemas.BatchScrapeRequest,
    request: Request,
    response: Response,
) -> schemas.Started:
    """Fetch a list of pages as one job; its records come at `results_url`."""
    job = await _enqueue(store, "scrape", body, None)
    return await _started(store, job, request, response)


@router.post(
    "/v1/crawl", status_code=202, summary="Start a crawl", responses=errors.responses(400, 413)
)
async def crawl(
    _key: WriteKey, store: Store, body: schemas.CrawlRequest, request: Request, response: Response
) -> schemas.Started:
    """Crawl from the start URL(s) within scope; follow the job at its URLs."""
    job = await _enqueue(store, "crawl", body, None)
    return await _started(store, job, request, response)


@router.post(
    "/v1/map",
    summary="List a site's URLs",
    responses={**errors.responses(400, 413), **_NOT_YET},
)
async def map_site(
    _key: WriteKey,
    res: Res,
    store: Store,
    body: schemas.MapRequest,
    request: Request,
    response: Response,
) -> schemas.MapResult:
    """Discover a site's URLs from sitemaps and links (no page content is stored).

    Waits up to `wait` seconds for the list, else answers 202 with the job.
    """
    job = await _enqueue(store, "map", body, SCRAPE_PRIORITY)
    done = await _finished(res, job.id, body.wait)
    if done is None:
        started = await _started(store, job, request, response)
        return JSONResponse(started.model_dump(mode="json"), status_code=202)  # type: ignore[return-value]
    urls = (done.result or {}).get("urls", []) if isinstance(done.result, dict) else []
    return schemas.MapResult(job=await with_history(store, job.id), urls=urls)


Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE, description="Records per page.")]
Cursor = Annotated[
    str | None, Query(max_length=64, description="`next_cursor` of the previous page.")
]


async def _records(store: JobStore, job_id: int, ok: bool, limit: int, cursor: str | None) -> Any:
    await store.get(job_id)  # 404 for an unknown job
    page = await CrawlStore(store.db).pages(job_id, ok=ok, limit=limit, cursor=cursor)
    return schemas.RecordPage(
        records=[schemas.Record.model_validate(exports.record(row)) for row in page.records],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/v1/jobs/{job_id}/results", summary="A job's page records", responses=errors.responses(404)
)
async def results(
    _key: ReadKey, store: Store, job_id: JobIdPath, limit: Limit = 100, cursor: Cursor = None
) -> schemas.RecordPage:
    """The pages a scrape or crawl fetched successfully, in the order they were stored."""
    return await _records(store, job_id, True, limit, cursor)  # type: ignore[no-any-return]


@router.get(
    "/v1/jobs/{job_id}/errors", summary="A job's failed pages", responses=errors.responses(404)
)
async def page_errors(
    _key: ReadKey, store: Store, job_id: JobIdPath, limit: Limit = 100, cursor: Cursor = None
) -> schemas.RecordPage:
    """Pages that failed, and why: HTTP errors, timeouts, blocked addresses, oversized
    bodies, and URLs robots.txt disallows (never fetched)."""
    return await _records(store, job_id, False, limit, cursor)  # type: ignore[no-any-return]


@router.get(
    "/v1/jobs/{job_id}/export",
    summary="Export a job's records",
    response_class=StreamingResponse,
    responses={
        **errors.responses(404),
        200: {
            "description": "The records, streamed.",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        },
    },
)
async def export(
    _key: ReadKey,
    store: Store,
    job_id: JobIdPath,
    format: Annotated[Literal["jsonl", "csv"], Query(description="`jsonl` or `csv`.")] = "jsonl",
    include: Annotated[
        Literal["pages", "errors", "all"],
        Query(description="`pages` fetched successfully (default), `errors`, or `all`."),
    ] = "pages",
) -> StreamingResponse:
    """Every record of the job as JSON lines or CSV, streamed in constant memory.

    CSV cells a spreadsheet would take for formulas (starting with `=`, `+`, `-`, `@`)
    are prefixed with `'`.
    """
    job = await store.get(job_id)
    ok = {"pages": True, "errors": False, "all": None}[include]
    chunks = exporting.job_chunks(CrawlStore(store.db), job, format, ok)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    filename = f"job-{job_id}.{format}"
    return StreamingResponse(
        exporting.encoded(chunks),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/v1/jobs/{job_id}/captures/{name}",
    summary="A rendered page's screenshot or PDF",
    response_class=FileResponse,
    responses={
        **errors.responses(404),
        200: {"description": "The file.", "content": {"image/png": {}, "application/pdf": {}}},
    },
)
async def capture(
    _key: ReadKey,
    res: Res,
    store: Store,
    job_id: JobIdPath,
    name: Annotated[str, Path(max_length=80, description="As the record's `url` names it.")],
) -> FileResponse:
    """A screenshot (PNG) or PDF a rendered page's record points to (its `screenshot`,
    `screenshot@full_page` or `pdf` field)."""
    from scrapeyard.crawl.render import outputs

    await store.get(job_id)  # 404 for an unknown job
    media_type = outputs.media_type(name)
    folder = res.settings.data_dir.resolve() / outputs.folder(job_id)
    path = folder / name
    if media_type is None or not path.is_file():
        raise HTTPException(404, f"job {job_id} has no capture {name!r}")
    return FileResponse(path, media_type=media_type, filename=name)


@router.get("/v1/hosts", summary="Hosts and their politeness state")
async def list_hosts(_key: ReadKey, store: Store) -> schemas.HostList:
    """Per host: rate-limit state, circuit state, frontier backlog and the oldest waiting
    URL, so you can see why a crawl is waiting."""
    found = await hosts.overview(store.db)
    return schemas.HostList(hosts=[schemas.Host.model_validate(h.to_json()) for h in found])
