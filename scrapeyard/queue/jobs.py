"""Jobs and their lifecycle: the status machine, the job record and its history."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from scrapeyard import errors
from scrapeyard.queue import retry

MIN_PRIORITY = -1000
MAX_PRIORITY = 1000
MAX_NAME_LENGTH = 100
MAX_UNIQUE_KEY_LENGTH = 255
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
MAX_DEPENDENCIES = 100


class JobStatus(enum.StrEnum):
    """Where a job is in its life."""

    WAITING = "waiting"
    """Waiting for the jobs it depends on to succeed (``depends_on``)."""
    SCHEDULED = "scheduled"
    """Waiting for its ``run_at`` time (a delayed job, or a retry after backoff)."""
    QUEUED = "queued"
    """Ready to run; the next free worker serving its queue claims it."""
    RUNNING = "running"
    """Claimed by a worker that holds a lease on it and renews it by heartbeat."""
    SUCCEEDED = "succeeded"
    """Finished; its result and writes were committed together."""
    FAILED = "failed"
    """Finished without success: a permanent error, or its attempts were used up."""
    CANCELLED = "cancelled"
    """Stopped on request before it finished."""


UNFINISHED_STATUSES = frozenset(
    {JobStatus.WAITING, JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.RUNNING}
)
"""A job in one of these still owns its ``unique_key``."""
READY_STATUSES = frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED})
"""Claimable once ``run_at`` has passed."""
FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
"""Terminal until someone retries the job by hand."""

TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = {
    JobStatus.WAITING: frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.CANCELLED}),
    JobStatus.SCHEDULED: frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
            JobStatus.SCHEDULED,  # retry after backoff
            JobStatus.QUEUED,  # rescued, or handed back at shutdown
        }
    ),
    JobStatus.SUCCEEDED: frozenset(),
    # Retried by hand: queued, or waiting again if what it depends on has not succeeded.
    JobStatus.FAILED: frozenset({JobStatus.QUEUED, JobStatus.WAITING}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED, JobStatus.WAITING}),
}
"""Every status change the store makes; a test holds the store to this table."""


class EventType(enum.StrEnum):
    """What can happen to a job; each is one row of its history."""

    ENQUEUED = "enqueued"
    STARTED = "started"
    RETRY_SCHEDULED = "retry_scheduled"
    RESCUED = "rescued"
    RELEASED = "released"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELLED = "cancelled"
    RETRIED = "retried"
    UNBLOCKED = "unblocked"
    """Every job it depended on succeeded; it is ready (or scheduled) now."""


def validate_name(field_name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidInput(field_name, "must be a non-empty string")
    if any(ord(char) < 32 for char in value):
        raise errors.InvalidInput(field_name, "must not contain control characters")
    if len(value) > MAX_NAME_LENGTH:
        raise errors.InvalidInput(field_name, f"must be at most {MAX_NAME_LENGTH} characters")
    return value


def validate_priority(priority: object) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise errors.InvalidInput("priority", "must be an integer")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise errors.InvalidInput("priority", f"must be between {MIN_PRIORITY} and {MAX_PRIORITY}")
    return priority


@dataclass(frozen=True)
class KindDefaults:
    """What a job kind sets for its jobs when the enqueuer does not."""

    queue: str | None = None
    priority: int | None = None
    max_attempts: int | None = None
    timeout: float | None = None


class KindCatalog(Protocol):
    """The registered job kinds, as the store needs them (the worker's registry is one)."""

    def __contains__(self, name: object) -> bool: ...

    def __iter__(self) -> Iterator[str]: ...

    def defaults(self, name: str) -> KindDefaults: ...

    def validate(self, name: str, payload: Mapping[str, Any]) -> None:
        """Raise ``InvalidInput`` (naming the field) if ``payload`` does not suit ``name``."""
        ...


@dataclass(frozen=True)
class JobSpec:
    """A request to enqueue one job. Validated on construction.

    ``delay`` (seconds from now) and ``run_at`` are mutually exclusive; with neither the
    job is ready at once. Fields left ``None`` take the kind's defaults, then the
    configured ones (queue ``default``, priority 0).
    """

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    queue: str | None = None
    priority: int | None = None
    run_at: datetime | None = None
    delay: float | None = None
    max_attempts: int | None = None
    retry: retry.RetryPolicy | None = None
    timeout: float | None = None
    unique_key: str | None = None
    depends_on: tuple[int, ...] = ()
    """Jobs that must succeed first; if one fails for good, this job is cancelled."""

    def __post_init__(self) -> None:
        validate_name("kind", self.kind)
        if self.queue is not None:
            validate_name("queue", self.queue)
        if not isinstance(self.payload, Mapping):
            raise errors.InvalidInput("payload", "must be a JSON object")
        if self.priority is not None:
            validate_priority(self.priority)
        if self.delay is not None and self.run_at is not None:
            raise errors.InvalidInput("delay", "give either delay or run_at, not both")
        if self.delay is not None and not self.delay >= 0:
            raise errors.InvalidInput("delay", "must not be negative")
        if self.run_at is not None and self.run_at.tzinfo is None:
            raise errors.InvalidInput("run_at", "must include a time zone")
        if self.max_attempts is not None and not 1 <= self.max_attempts <= 1000:
            raise errors.InvalidInput("max_attempts", "must be between 1 and 1000")
        if self.timeout is not None and not self.timeout > 0:
            raise errors.InvalidInput("timeout", "must be a positive number of seconds")
        if not isinstance(self.depends_on, tuple) or len(self.depends_on) > MAX_DEPENDENCIES:
            raise errors.InvalidInput(
                "depends_on", f"must be a list of at most {MAX_DEPENDENCIES} job ids"
            )
        for index, job_id in enumerate(self.depends_on):
            if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id < 1:
                raise errors.InvalidInput(f"depends_on[{index}]", "must be a job id")
        if self.unique_key is not None and not (
            isinstance(self.unique_key, str) and 0 < len(self.unique_key) <= MAX_UNIQUE_KEY_LENGTH
        ):
            raise errors.InvalidInput(
                "unique_key", f"must be 1 to {MAX_UNIQUE_KEY_LENGTH} characters"
            )


@dataclass(frozen=True)
class Job:
    """A job as stored. Read-only: every change goes through the store."""

    id: int
    kind: str
    queue: str
    payload: dict[str, Any]
    priority: int
    status: JobStatus
    run_at: datetime
    attempts: int
    max_attempts: int
    retry: retry.RetryPolicy
    timeout: float | None
    unique_key: str | None
    chain_id: int | None
    lease_owner: str | None
    lease_token: str | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    progress: dict[str, Any] | None
    result: Any
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            queue=row["queue"],
            payload=row["payload"],
            priority=row["priority"],
            status=JobStatus(row["status"]),
            run_at=row["run_at"],
            attempts=row["attempts"],
            max_attempts=row["max_attempts"],
            retry=retry.RetryPolicy.from_json(row["retry"]),
            timeout=row["timeout"],
            unique_key=row["unique_key"],
            chain_id=row.get("chain_id"),
            lease_owner=row["lease_owner"],
            lease_token=row["lease_token"],
            lease_expires_at=row["lease_expires_at"],
            cancel_requested=bool(row["cancel_requested"]),
            progress=row["progress"],
            result=row["result"],
            error=row["error"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            updated_at=row["updated_at"],
        )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def attempts_left(self) -> int:
        return max(self.max_attempts - self.attempts, 0)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601, UTC); the lease token is left out."""
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "queue": self.queue,
            "status": str(self.status),
            "priority": self.priority,
            "payload": self.payload,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "retry": self.retry.to_json(),
            "timeout": self.timeout,
            "unique_key": self.unique_key,
            "chain_id": self.chain_id,
            "lease_owner": self.lease_owner,
            "cancel_requested": self.cancel_requested,
            "progress": self.progress,
            "result": self.result,
            "error": self.error,
        }
        for name in (
            "run_at",
            "lease_expires_at",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
        ):
            value: datetime | None = getattr(self, name)
            data[name] = value.isoformat() if value else None
        return data


@dataclass(frozen=True)
class JobEvent:
    """One entry of a job's history."""

    id: int
    job_id: int
    type: EventType
    at: datetime
    attempt: int
    worker: str | None
    message: str | None
    data: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> JobEvent:
        return cls(
            id=row["id"],
            job_id=row["job_id"],
            type=EventType(row["type"]),
            at=row["at"],
            attempt=row["attempt"],
            worker=row["worker"],
            message=row["message"],
            data=row["data"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_id": self.job_id,
            "type": str(self.type),
            "at": self.at.isoformat(),
            "attempt": self.attempt,
            "worker": self.worker,
            "message": self.message,
            "data": self.data,
        }
