"""Running a worker inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from scrapeyard.queue.store import JobStore
from scrapeyard.worker import events
from scrapeyard.worker.process import WorkerOptions, WorkerProcess
from scrapeyard.worker.queues import QueueSelector

FAST = {
    "poll_interval": 0.05,
    "heartbeat_interval": 0.2,
    "shutdown_grace": 5.0,
    "cancel_grace": 0.3,
}


@contextlib.asynccontextmanager
async def running_worker(
    store: JobStore, *, hooks: events.Hooks | None = None, **options: Any
) -> AsyncIterator[WorkerProcess]:
    """A worker process object running in a task; stopped (gracefully) on exit."""
    settings = {**FAST, **options}
    queues = settings.pop("queues", ("default",))
    worker = WorkerProcess(
        store,
        WorkerOptions(queues=QueueSelector(tuple(queues)), **settings),
        hooks=hooks or events.Hooks(),
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, timeout=30)
