"""What a job handler receives: its job, and ways to act from inside it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors, logs
from scrapeyard.queue.database import Database
from scrapeyard.queue.jobs import Job, JobSpec
from scrapeyard.queue.store import JobStore

if TYPE_CHECKING:
    from scrapeyard.worker.resources import Resources

Write = Callable[[AsyncConnection], Awaitable[None]]


class JobContext:
    """The job being run and the handler's tools.

    - ``job``: the job, as claimed (payload, attempt number, ...).
    - ``log``: a logger whose records carry the job id, kind and worker id.
    - ``progress(done, total, **detail)``: report progress; writes are throttled.
    - ``cancelled``: an ``asyncio.Event`` set when someone cancels the job; check it
      (``ctx.raise_if_cancelled()``) or await it. Without a reaction, the handler is
      interrupted after a short grace period.
    - ``stopping``: set when the worker begins shutting down. A long job may stop early
      and raise ``JobInterrupted`` to go back to the queue (attempt not counted); one
      that ignores it is interrupted after the shutdown grace period.
    - ``resources``: what the jobs of this worker process share (HTTP client, ...).
    - ``on_success(write)``: run ``write(conn)`` in the transaction that marks the job
      succeeded, so the job's results are committed exactly once, with the job.
    - ``enqueue(spec)``: enqueue a job now; ``enqueue_on_success(spec)``: enqueue it in
      the completion transaction (it exists if and only if this job succeeds).
    - ``db``: the database, for reads and for writes that need not wait for the job.
    """

    def __init__(
        self,
        job: Job,
        store: JobStore,
        *,
        log: logs.BoundLogger,
        resources: Resources | None = None,
        progress_interval: float = 1.0,
    ) -> None:
        self.job = job
        self.store = store
        self.log = log
        self._resources = resources
        self.cancelled = asyncio.Event()
        self.stopping = asyncio.Event()
        self.progress_interval = progress_interval
        self._writes: list[Write] = []
        self._follow_ups: list[JobSpec] = []
        self._progress: dict[str, Any] | None = None
        self._progress_written_at = 0.0
        self._progress_dirty = False

    @property
    def db(self) -> Database:
        return self.store.db

    @property
    def resources(self) -> Resources:
        if self._resources is None:
            raise RuntimeError("this job runs outside a worker: no shared resources")
        return self._resources

    async def progress(self, done: int, total: int | None = None, **detail: Any) -> None:
        """Record progress; stored at most once per ``progress_interval`` seconds."""
        self._progress = {"done": done, "total": total, **detail}
        self._progress_dirty = True
        if time.monotonic() - self._progress_written_at >= self.progress_interval:
            await self.flush_progress()

    async def flush_progress(self) -> None:
        """Write the latest progress now, if it changed since the last write."""
        if self._progress is None or not self._progress_dirty:
            return
        self._progress_dirty = False
        self._progress_written_at = time.monotonic()
        await self.store.set_progress(self.job, self._progress)

    @property
    def latest_progress(self) -> dict[str, Any] | None:
        return self._progress

    def raise_if_cancelled(self) -> None:
        """Raise ``JobCancelled`` if cancellation was requested."""
        if self.cancelled.is_set():
            raise errors.JobCancelled(f"job {self.job.id} was cancelled")

    def on_success(self, write: Write) -> None:
        """Run ``write`` in the transaction that completes this job."""
        self._writes.append(write)

    async def enqueue(self, spec: JobSpec) -> Job:
        """Enqueue a job right away (it exists even if this job later fails)."""
        return await self.store.enqueue(spec)

    async def dependencies(self) -> list[Job]:
        """The jobs this one depends on (in a chain: the step before), as stored now."""
        found = await self.store.get_many(await self.store.dependencies(self.job.id))
        return [found[job_id] for job_id in sorted(found)]

    def enqueue_on_success(self, spec: JobSpec) -> None:
        """Enqueue ``spec`` when, and only if, this job succeeds (same transaction)."""
        self._follow_ups.append(spec)

    @property
    def has_writes(self) -> bool:
        return bool(self._writes or self._follow_ups)

    async def commit_writes(self, conn: AsyncConnection) -> None:
        """Run the writes registered with ``on_success`` and ``enqueue_on_success``."""
        for write in self._writes:
            await write(conn)
        if self._follow_ups:
            await self.store.enqueue_many(self._follow_ups, conn=conn)
