"""Batched completion: many succeeded jobs marked done in one short transaction.

A handler's success is buffered for a few milliseconds and flushed together with
others. This stays crash-safe: a completion that was never flushed leaves its job
``running`` under a lease this worker stops renewing, so the job is rescued and runs
again (delivery is at-least-once; results written through ``on_success`` are not
buffered here, they commit with their own completion).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from scrapeyard import errors
from scrapeyard.queue.jobs import Job
from scrapeyard.queue.store import JobStore

log = logging.getLogger(__name__)

Done = Callable[[Job, Any, float], Awaitable[None]]
"""Called after a job's completion is committed: (job, result, duration seconds)."""
Lost = Callable[[Job], Awaitable[None]]
"""Called when a completion was refused because the lease was lost."""


@dataclass
class _Pending:
    job: Job
    result: Any
    duration: float


class Completer:
    """Buffers successful jobs and flushes them every ``interval`` or ``batch`` jobs."""

    def __init__(
        self,
        store: JobStore,
        *,
        on_done: Done,
        on_lost: Lost,
        interval: float = 0.005,
        batch: int = 200,
        max_pending: int = 2000,
    ) -> None:
        self._store = store
        self._on_done = on_done
        self._on_lost = on_lost
        self._interval = interval
        self._batch = batch
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._room = asyncio.Semaphore(max_pending)
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scrapeyard-completer")

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def add(self, job: Job, result: Any, duration: float) -> None:
        """Queue ``job`` for completion; waits only when too many are already waiting."""
        await self._room.acquire()
        self._pending.append(_Pending(job, result, duration))
        if len(self._pending) >= self._batch:
            self._wake.set()

    async def close(self) -> None:
        """Flush everything still buffered, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            while self._pending:
                await self._flush()
            if self._closing:
                return

    async def _flush(self) -> None:
        batch, self._pending = self._pending[: self._batch], self._pending[self._batch :]
        delay = 0.05
        started = time.monotonic()
        while True:
            try:
                refused = set(await self._store.complete_many([(p.job, p.result) for p in batch]))
                break
            except errors.DatabaseUnavailable as exc:
                # Keep trying: if the leases run out first, the jobs are rescued and
                # run again elsewhere, and our late completion is refused. Nothing lost.
                waited = time.monotonic() - started
                if waited > self._store.defaults.lease_duration * 2:
                    log.error("giving up completing %d jobs: %s", len(batch), exc)
                    refused = {p.job.id for p in batch}
                    break
                log.warning("completing %d jobs failed (%s); retrying", len(batch), exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        for item in batch:
            self._room.release()
            if item.job.id in refused:
                await self._on_lost(item.job)
            else:
                await self._on_done(item.job, item.result, item.duration)
