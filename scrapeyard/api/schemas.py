"""The API's request and response bodies, as pydantic models; they feed OpenAPI too.

Inputs are checked here as far as a schema can: lengths, ranges, time zones, and text
that the databases cannot store (NUL characters, lone surrogates), so that bad input
gets a 422 naming the field instead of reaching SQL. Domain rules (registered kinds,
payload size) stay with the store, which reports them as ``InvalidInput``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from scrapeyard.queue import jobs, keys, queries, workers
from scrapeyard.queue.jobs import EventType, JobStatus

MAX_JOB_ID = 2**63 - 1
MAX_DELAY = 10 * 365 * 86400.0
"""Ten years: later than that is a mistake, and beyond what every backend's time holds."""
MAX_TIMEOUT = 30 * 86400.0


def _storable(value: str) -> str:
    """Refuse what a database cannot store in a text column: NUL and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _strings(value: Any) -> Iterator[str]:
    """Every key and string inside a JSON value, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    # PostgreSQL's jsonb refuses \u0000; refuse it on every backend alike.
    for text in _strings(value):
        if "\x00" in text:
            raise ValueError("strings in the payload must not contain NUL characters (\\u0000)")
    return value


def _utc(value: datetime) -> datetime:
    """An aware time in UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Name = Annotated[
    str,
    Field(min_length=1, max_length=jobs.MAX_NAME_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$"),
    AfterValidator(_storable),
]
Time = Annotated[datetime, AfterValidator(_utc)]
JobId = Annotated[int, Field(ge=1, le=MAX_JOB_ID)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ---------------------------------------------------------------------------


class FieldError(_Model):
    """One thing wrong with the request."""

    location: str | None = Field(
        description="Where the field is: `body`, `query`, `path` or `header`; null if unknown."
    )
    field: str = Field(
        description="Dotted path of the field within its location, e.g. `payload.sleep`; "
        "empty when the whole location is wrong (malformed JSON)."
    )
    message: str = Field(description="What is wrong with it.")


class ErrorBody(_Model):
    """What went wrong."""

    code: str = Field(
        description="Stable, machine-readable: `invalid_input`, `unknown_kind`, "
        "`not_authenticated`, `not_permitted`, `rate_limited`, `job_not_found`, "
        "`invalid_transition`, `request_too_large`, `database_unavailable`, ..."
    )
    message: str = Field(description="For people: what went wrong and, where possible, why.")
    details: dict[str, Any] = Field(
        description="Structured facts: `fields` (a list of FieldError) for invalid input, "
        "`job_id`, `status` and `action` for an impossible transition, `retry_after` "
        "(seconds) when rate limited."
    )


class ErrorEnvelope(_Model):
    """Every error response has this shape."""

    error: ErrorBody = Field(description="The error.")


# -- jobs -----------------------------------------------------------------------------


class EnqueueRequest(_Model):
    """A job to run: a registered kind and its payload, with optional scheduling."""

    kind: Name = Field(description="A registered job kind, e.g. `noop`.")
    payload: Annotated[dict[str, Any], AfterValidator(_storable_json)] = Field(
        default_factory=dict,
        description=f"JSON object handed to the job (at most {jobs.MAX_PAYLOAD_BYTES:,} bytes).",
    )
    queue: Name | None = Field(
        None, description="Queue to put the job on; default: the kind's queue, else `default`."
    )
    priority: int | None = Field(
        None,
        ge=jobs.MIN_PRIORITY,
        le=jobs.MAX_PRIORITY,
        strict=True,
        description="Higher runs first; default: the kind's priority, else 0.",
    )
    delay: float | None = Field(
        None,
        ge=0,
        le=MAX_DELAY,
        allow_inf_nan=False,
        description="Run no sooner than this many seconds from now. Not with `run_at`.",
    )
    run_at: Time | None = Field(
        None, description="Run no sooner than this time (ISO 8601). Not with `delay`."
    )
    unique_key: (
        Annotated[
            str,
            Field(min_length=1, max_length=jobs.MAX_UNIQUE_KEY_LENGTH),
            AfterValidator(_storable),
        ]
        | None
    ) = Field(
        None,
        description="While an unfinished job holds this key, enqueueing returns that job "
        "instead of adding another.",
    )
    max_attempts: int | None = Field(
        None, ge=1, le=1000, strict=True, description="Attempts before the job fails for good."
    )
    timeout: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT,
        allow_inf_nan=False,
        description="Seconds one attempt may run; default: the kind's, else the worker's.",
    )
    depends_on: list[JobId] | None = Field(
        None,
        max_length=jobs.MAX_DEPENDENCIES,
        description="Jobs that must succeed first; the job waits (status `waiting`) and is "
        "cancelled if one of them fails for good.",
    )


class ChainRequest(_Model):
    """Jobs to run one after the other."""

    jobs: list[EnqueueRequest] = Field(
        min_length=2, max_length=20, description="The steps, first to last."
    )


class JobQuery(_Model):
    """Which jobs to list. Unknown parameters are refused, so a typo is not a silent no-op."""

    status: list[JobStatus] | None = Field(
        None, description="Only jobs in these statuses (repeat the parameter for several)."
    )
    kind: Name | None = Field(None, description="Only jobs of this kind.")
    queue: Name | None = Field(None, description="Only jobs on this queue.")
    created_after: Time | None = Field(
        None, description="Only jobs enqueued at or after this time (ISO 8601)."
    )
    created_before: Time | None = Field(
        None, description="Only jobs enqueued before this time (ISO 8601)."
    )
    limit: int = Field(50, ge=1, le=queries.MAX_PAGE_SIZE, description="Jobs per page.")
    cursor: str | None = Field(
        None, max_length=64, description="`next_cursor` of the previous page."
    )


class JobEvent(_Model):
    """One entry of a job's history."""

    id: int = Field(description="Increases with every event recorded, across all jobs.")
    type: EventType = Field(description="What happened.")
    at: datetime = Field(description="When, by the database's clock.")
    attempt: int = Field(description="The attempt it happened in (0 before the first).")
    worker: str | None = Field(description="The worker involved, if any.")
    message: str | None = Field(description="Details, e.g. the error of a failed attempt.")
    data: dict[str, Any] | None = Field(description="Structured details, e.g. a retry delay.")

    @classmethod
    def of(cls, event: jobs.JobEvent) -> JobEvent:
        return cls(
            id=event.id,
            type=event.type,
            at=event.at,
            attempt=event.attempt,
            worker=event.worker,
            message=event.message,
            data=event.data,
        )


class JobSummary(_Model):
    """A job without its result: what listings show."""

    id: int = Field(description="The job's id.")
    kind: str = Field(description="The job kind.")
    queue: str = Field(description="The queue it is on.")
    status: JobStatus = Field(description="Where it is in its life.")
    priority: int = Field(description="Higher runs first.")
    payload: dict[str, Any] = Field(description="The JSON object the job was given.")
    attempts: int = Field(description="Attempts started so far.")
    max_attempts: int = Field(description="Attempts allowed before it fails for good.")
    timeout: float | None = Field(description="Seconds one attempt may run, if set.")
    unique_key: str | None = Field(description="Its de-duplication key, if any.")
    chain_id: int | None = Field(description="The chain it belongs to (its first job's id).")
    worker: str | None = Field(description="The worker holding (or last holding) its lease.")
    cancel_requested: bool = Field(
        description="A running job was asked to stop; its worker will confirm within a heartbeat."
    )
    progress: dict[str, Any] | None = Field(
        description="The latest progress the job reported: `done`, `total` and details."
    )
    error: dict[str, Any] | None = Field(
        description="The last failure: `type`, `message`, `attempt`, and maybe `traceback`."
    )
    run_at: datetime = Field(description="Not claimed before this time.")
    created_at: datetime = Field(description="When it was enqueued.")
    started_at: datetime | None = Field(description="When its latest attempt started.")
    finished_at: datetime | None = Field(description="When it finished, if it has.")
    updated_at: datetime = Field(description="When anything about it last changed.")

    @classmethod
    def of(cls, job: jobs.Job) -> JobSummary:
        return cls(**_job_fields(job))


class Job(JobSummary):
    """A job with its result and its history."""

    result: Any = Field(description="What the job returned, once it succeeded.")
    events: list[JobEvent] = Field(description="Its history, oldest first.")
    stats: dict[str, Any] | None = Field(
        None,
        description="For scrape, map and crawl jobs, the crawl's counters over every "
        "participant: `admitted`, `discovered`, `fetched`, `failed`, `skipped_robots`, "
        "`skipped_scope`, `skipped_content_type`, `bytes`, `open` (URLs still waiting), "
        "`max_pages`, and engine `stats` (sitemaps read, circuit breakers).",
    )

    depends_on: list[int] = Field(
        default_factory=list, description="The jobs it waits for (or waited for)."
    )
    chain: list[JobSummary] | None = Field(
        None, description="Every job of its chain, in order, when it belongs to one."
    )

    @classmethod
    def with_history(
        cls,
        job: jobs.Job,
        events: list[jobs.JobEvent],
        *,
        stats: dict[str, Any] | None = None,
        depends_on: list[int] | None = None,
        chain: list[jobs.Job] | None = None,
    ) -> Job:
        return cls(
            **_job_fields(job),
            result=job.result,
            events=[JobEvent.of(event) for event in events],
            stats=_plain(stats),
            depends_on=depends_on or [],
            chain=[JobSummary.of(step) for step in chain] if chain is not None else None,
        )


def _plain(stats: dict[str, Any] | None) -> dict[str, Any] | None:
    """Crawl counters as JSON values (times as ISO 8601)."""
    if stats is None:
        return None
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in stats.items()
        if key != "job_id"
    }


def _job_fields(job: jobs.Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "queue": job.queue,
        "status": job.status,
        "priority": job.priority,
        "payload": job.payload,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "timeout": job.timeout,
        "unique_key": job.unique_key,
        "chain_id": job.chain_id,
        "worker": job.lease_owner,
        "cancel_requested": job.cancel_requested,
        "progress": job.progress,
        "error": job.error,
        "run_at": job.run_at,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "updated_at": job.updated_at,
    }


class JobPage(_Model):
    """A page of jobs, newest first."""

    jobs: list[JobSummary] = Field(description="The jobs on this page.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )

    @classmethod
    def of(cls, page: queries.Page) -> JobPage:
        return cls(jobs=[JobSummary.of(job) for job in page.jobs], next_cursor=page.next_cursor)


# -- queues and workers ---------------------------------------------------------------


class Queue(_Model):
    """A queue: its jobs by status, and whether workers may claim from it."""

    name: str = Field(description="The queue's name.")
    paused: bool = Field(description="Workers claim nothing from a paused queue.")
    counts: dict[JobStatus, int] = Field(description="Jobs by status; every status is present.")
    total: int = Field(description="All its jobs, whatever their status.")

    @classmethod
    def of(cls, info: queries.QueueInfo) -> Queue:
        counts = {status: info.counts.get(str(status), 0) for status in JobStatus}
        return cls(name=info.name, paused=info.paused, counts=counts, total=sum(counts.values()))


class Worker(_Model):
    """A worker process, as its heartbeat row describes it."""

    id: str = Field(description="The worker's id: host, pid and a random suffix.")
    supervisor: str | None = Field(description="The supervisor that started it, if any.")
    host: str = Field(description="The machine it runs on.")
    pid: int = Field(description="Its process id on that machine.")
    queues: list[str] = Field(description="The queues it serves.")
    concurrency: int = Field(description="Jobs it runs at once, at most.")
    state: workers.WorkerState = Field(description="Where it is in its life.")
    started_at: datetime = Field(description="When it started.")
    last_seen_at: datetime = Field(description="Its latest heartbeat.")
    jobs_running: int = Field(description="Jobs it was running at its latest heartbeat.")
    jobs_succeeded: int = Field(description="Jobs it has finished successfully.")
    jobs_failed: int = Field(description="Attempts that failed in it.")
    rss_bytes: int = Field(description="Its resident memory at its latest heartbeat.")
    version: str = Field(description="The scrapeyard version it runs.")
    stale: bool = Field(
        description="No heartbeat for three heartbeat intervals while not stopped: it "
        "probably died."
    )

    @classmethod
    def of(cls, info: workers.WorkerInfo) -> Worker:
        return cls(
            id=info.id,
            supervisor=info.supervisor,
            host=info.host,
            pid=info.pid,
            queues=info.queues,
            concurrency=info.concurrency,
            state=info.state,
            started_at=info.started_at,
            last_seen_at=info.last_seen_at,
            jobs_running=info.jobs_running,
            jobs_succeeded=info.jobs_succeeded,
            jobs_failed=info.jobs_failed,
            rss_bytes=info.rss_bytes,
            version=info.version,
            stale=info.stale,
        )


# -- health ---------------------------------------------------------------------------


class Health(_Model):
    """The process answers."""

    status: str = Field(description="`ok`.")


class Readiness(_Model):
    """Whether this API process can serve requests."""

    status: str = Field(description="`ready`, or `unavailable` with the problems.")
    problems: list[str] = Field(description="What is wrong; empty when ready.")


class KeyInfo(_Model):
    """The API key a request was made with (never its secret)."""

    id: int = Field(description="The key's id.")
    name: str = Field(description="The name it was given.")
    prefix: str = Field(description="Its first characters, to tell keys apart.")
    scope: keys.Scope = Field(description="`read`, `write` or `admin`; each includes the last.")
    expires_at: datetime | None = Field(description="When it stops working, if ever.")

    @classmethod
    def of(cls, key: keys.ApiKey) -> KeyInfo:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scope=key.scope,
            expires_at=key.expires_at,
        )
