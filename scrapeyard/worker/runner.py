"""One job's life inside a worker: run the handler, then record the outcome.

The runner owns the bookkeeping (timeouts, cancellation, outcomes, hooks); a handler
only does its work and returns or raises:

- returns            -> succeeded (batched completion, or one transaction with the
                        handler's ``on_success`` writes)
- ``RetryLater``     -> retried after the delay it names
- ``PermanentError`` -> failed, no retry
- times out          -> retried (a ``JobTimeout`` error), like any other exception
- cancelled          -> cancelled (on request), or handed back (worker shutdown), or
                        dropped silently (the lease was lost: someone else has it)
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from scrapeyard import errors, logs
from scrapeyard.queue.jobs import Job, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.worker import completer, context, events, handlers
from scrapeyard.worker.resources import Resources

MAX_TRACEBACK_CHARS = 20_000

T = TypeVar("T")


class StopReason(enum.Enum):
    """Why a worker interrupted a running handler."""

    CANCEL_REQUESTED = "cancel requested"
    SHUTDOWN = "worker shutting down"
    LEASE_LOST = "lease lost"


class Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RELEASED = "released"
    LOST = "lost"


@dataclass
class Running:
    """A job in flight in this worker."""

    job: Job
    context: context.JobContext
    handler_task: asyncio.Task[Any] | None = None
    stop_reason: StopReason | None = None
    started: float = field(default_factory=time.monotonic)

    def stop(self, reason: StopReason) -> None:
        """Interrupt the handler (the first reason given wins)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.handler_task is not None and not self.handler_task.done():
            self.handler_task.cancel()


def error_record(exc: BaseException) -> dict[str, Any]:
    """How an exception is stored on a job: type, message and a bounded traceback."""
    text = "".join(traceback.format_exception(exc))
    if len(text) > MAX_TRACEBACK_CHARS:
        text = "...\n" + text[-MAX_TRACEBACK_CHARS:]
    return {"type": type(exc).__name__, "message": str(exc), "traceback": text}


class Runner:
    """Runs claimed jobs for one worker process."""

    def __init__(
        self,
        store: JobStore,
        registry: handlers.Registry,
        done: completer.Completer,
        hooks: events.Hooks,
        *,
        worker_id: str,
        default_timeout: float,
        log: logs.BoundLogger,
        resources: Resources | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.completer = done
        self.hooks = hooks
        self.worker_id = worker_id
        self.default_timeout = default_timeout
        self.log = log
        self.resources = resources
        self.succeeded = 0
        self.failed = 0

    def prepare(self, job: Job) -> Running:
        job_log = logs.bind(self.log, job_id=job.id, kind=job.kind, attempt=job.attempts)
        return Running(
            job, context.JobContext(job, self.store, log=job_log, resources=self.resources)
        )

    async def run(self, running: Running) -> Outcome:
        """Run the job's handler to an outcome and record it. Never raises."""
        job, ctx = running.job, running.context
        try:
            handler = self.registry.get(job.kind).handler
        except errors.UnknownKind as exc:
            return await self._failed(running, exc)
        await self.hooks.emit("job_started", job=job)
        running.handler_task = asyncio.create_task(handler(ctx), name=f"job-{job.id}")
        timeout = job.timeout or self.default_timeout
        try:
            result = await asyncio.wait_for(running.handler_task, timeout)
        except asyncio.CancelledError:
            if running.stop_reason is None:
                raise
            return await self._stopped(running)
        except TimeoutError:
            if running.stop_reason is not None:
                return await self._stopped(running)
            return await self._failed(
                running, errors.JobTimeout(f"job ran past its timeout of {timeout:g}s")
            )
        except errors.JobCancelled:
            running.stop_reason = StopReason.CANCEL_REQUESTED
            return await self._stopped(running)
        except errors.JobInterrupted:
            running.stop_reason = running.stop_reason or StopReason.SHUTDOWN
            return await self._stopped(running)
        except Exception as exc:
            return await self._failed(running, exc)
        if ctx.cancelled.is_set():
            # Cancelled while finishing: the operator asked for it; honour the request.
            running.stop_reason = running.stop_reason or StopReason.CANCEL_REQUESTED
        if running.stop_reason is not None:
            return await self._stopped(running)
        return await self._succeeded(running, result)

    async def _succeeded(self, running: Running, result: Any) -> Outcome:
        job, ctx = running.job, running.context
        try:
            orjson.dumps(result)
        except TypeError as exc:
            return await self._failed(
                running, errors.PermanentError(f"the job's result is not JSON-serialisable: {exc}")
            )
        duration = time.monotonic() - running.started
        try:
            await self._persist(job, ctx.flush_progress)
            if not ctx.has_writes:
                await self.completer.add(job, result, duration)
                return Outcome.SUCCEEDED

            async def complete_with_writes() -> None:
                async with self.store.transaction() as tx:
                    await ctx.commit_writes(tx)
                    await self.store.complete(job, result, conn=tx)

            await self._persist(job, complete_with_writes)
        except errors.LeaseLost:
            await self.lost(job)
            return Outcome.LOST
        await self.finished(job, result, duration)
        return Outcome.SUCCEEDED

    async def finished(self, job: Job, result: Any, duration: float) -> None:
        """A success was committed (directly, or by the completer)."""
        self.succeeded += 1
        self.log.debug("job succeeded in %.3fs", duration, extra={"job_id": job.id})
        await self.hooks.emit("job_succeeded", job=job, result=result, duration=duration)

    async def lost(self, job: Job) -> None:
        self.log.warning(
            "job's lease was lost before it finished; another worker owns it now",
            extra={"job_id": job.id, "kind": job.kind},
        )

    async def _failed(self, running: Running, exc: Exception) -> Outcome:
        job = running.job
        record = error_record(exc)
        retry_in = exc.delay if isinstance(exc, errors.RetryLater) else None
        permanent = isinstance(exc, errors.PermanentError)
        try:
            status = await self._persist(
                job, lambda: self.store.fail(job, record, retry_in=retry_in, permanent=permanent)
            )
        except errors.LeaseLost:
            await self.lost(job)
            return Outcome.LOST
        duration = time.monotonic() - running.started
        final = status is JobStatus.FAILED
        self.failed += 1
        level = logging.ERROR if final else logging.WARNING
        running.context.log.log(
            level,
            "job failed%s: %s: %s",
            "" if final else "; retry scheduled",
            record["type"],
            record["message"],
        )
        await self.hooks.emit("job_failed", job=job, error=record, duration=duration, final=final)
        if not final:
            delay = retry_in if retry_in is not None else job.retry.delay(job.attempts)
            await self.hooks.emit("job_retry_scheduled", job=job, error=record, delay=delay)
        return Outcome.FAILED if final else Outcome.RETRYING

    async def _stopped(self, running: Running) -> Outcome:
        job = running.job
        try:
            if running.stop_reason is StopReason.CANCEL_REQUESTED:
                await self._persist(
                    job, lambda: self.store.confirm_cancelled(job, message="cancelled on request")
                )
                running.context.log.info("job cancelled on request")
                return Outcome.CANCELLED
            if running.stop_reason is StopReason.SHUTDOWN:
                await self._persist(job, lambda: self.store.release(job))
                running.context.log.info("job handed back to the queue (shutdown)")
                return Outcome.RELEASED
        except errors.LeaseLost:
            pass
        await self.lost(job)
        return Outcome.LOST

    async def _persist(self, job: Job, write: Callable[[], Awaitable[T]]) -> T:
        """Run a store write, retrying while the database is unreachable.

        Gives up after two lease durations: by then the job has been rescued, and the
        write would be refused anyway.
        """
        delay = 0.05
        deadline = time.monotonic() + self.store.defaults.lease_duration * 2
        while True:
            try:
                return await write()
            except errors.DatabaseUnavailable as exc:
                if time.monotonic() > deadline:
                    raise errors.LeaseLost(job.id) from exc
                self.log.warning("database unavailable (%s); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
